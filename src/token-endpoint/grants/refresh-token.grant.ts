import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AuthenticatedClient } from '../../clients/authenticated-client';
import { OAUTH_CORE_OPTIONS } from '../../core/oauth-core.module-definition';
import type { ResolvedOAuthCoreOptions } from '../../core/oauth-core-options.interface';
import { revocationEvent, RevokedGrantRow } from '../../core/revocation-event';
import { RevocationEvents } from '../../core/revocation-events';
import { GrantActivity } from '../../grants/grant-activity.service';
import { generateToken, hashToken, parseTokenKind } from '../../grants/token-format';
import { OAuthException } from '../../http/oauth.exception';
import { TokenGrantHandler } from '../token-grant-handler.decorator';
import type { GrantHandler, TokenRequest, TokenResponse } from '../token-grant-handler.interface';
import { withScope } from '../token-grant.service';

/** How a refresh ended, as `oauth_refresh_token` reports it. */
export type RefreshOutcome = 'rotated' | 'retried' | 'reuse' | 'invalid_grant' | 'invalid_scope';

interface RefreshRow extends RevokedGrantRow {
  outcome: RefreshOutcome;
}

const INVALID_REFRESH = 'The refresh token is invalid, expired, revoked, or was issued to another client; sign in again.';
const REUSED_REFRESH = 'The refresh token was already used; the session has been revoked as a precaution; sign in again.';

/**
 * RFC 6749 §6: exchanges a refresh token for a new pair in the same grant (rotation), or answers a retry
 * of an exchange whose response was lost (Matrix), or detects reuse (RFC 9700 §4.14.2) and revokes the
 * grant. The decision is made in the database under the grant lock (see oauth_refresh_token), in one
 * round trip, so it cannot race a revocation.
 */
@Injectable()
@TokenGrantHandler()
export class RefreshTokenGrantHandler implements GrantHandler {
  readonly grantType = 'refresh_token';

  constructor(
    private readonly dataSource: DataSource,
    @Inject(OAUTH_CORE_OPTIONS) private readonly core: ResolvedOAuthCoreOptions,
    private readonly events: RevocationEvents,
    private readonly activity: GrantActivity,
  ) {}

  async handle(request: TokenRequest, client: AuthenticatedClient, scope: string[] | undefined): Promise<TokenResponse> {
    const refreshToken = request.refresh_token;
    if (refreshToken === undefined) throw OAuthException.invalidRequest('refresh_token is required with grant_type refresh_token.');
    // Not one of our refresh tokens: it cannot exist, no lookup needed.
    if (parseTokenKind(refreshToken, this.core.tokenPrefixes) !== 'refresh_token') throw new OAuthException('invalid_grant', INVALID_REFRESH);
    const access = generateToken(this.core.tokenPrefixes.access);
    const refresh = generateToken(this.core.tokenPrefixes.refresh);
    const [row]: RefreshRow[] = await this.dataSource.query(
      'SELECT outcome, grant_id, client_id, subject, scope, reason, revoked_at FROM oauth_refresh_token($1, $2, $3, $4, $5, $6, $7)',
      [hashToken(refreshToken), client.clientId, scope ?? null, hashToken(access), this.core.accessTokenTtlSeconds, hashToken(refresh), this.core.refreshTokenTtlSeconds],
    );
    switch (row.outcome) {
      case 'rotated':
      case 'retried':
        this.activity.touch(row.grant_id!);
        return withScope({ access_token: access, token_type: 'Bearer', expires_in: this.core.accessTokenTtlSeconds, refresh_token: refresh }, row.scope ?? undefined);
      case 'reuse':
        // The revocation has committed (the statement above); listeners hear of it before the client does.
        await this.events.emit(revocationEvent(row, 'refresh_token', client.clientId));
        throw new OAuthException('invalid_grant', REUSED_REFRESH);
      case 'invalid_scope':
        throw new OAuthException('invalid_scope', 'The requested scope exceeds the scope of the grant (RFC 6749 §6).');
      default:
        throw new OAuthException('invalid_grant', INVALID_REFRESH);
    }
  }
}
