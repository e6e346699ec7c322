import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AuthenticatedClient } from '../clients/authenticated-client';
import { OAUTH_CORE_OPTIONS } from '../core/oauth-core.module-definition';
import type { ResolvedOAuthCoreOptions } from '../core/oauth-core-options.interface';
import { revocationEvent, RevokedGrantRow } from '../core/revocation-event';
import { RevocationEvents } from '../core/revocation-events';
import { generateToken, hashToken } from '../grants/token-format';
import { OAuthException } from '../http/oauth.exception';
import { TokenGrantHandler } from '../token-endpoint/token-grant-handler.decorator';
import type { GrantHandler, TokenRequest, TokenResponse } from '../token-endpoint/token-grant-handler.interface';
import { withScope } from '../token-endpoint/token-grant.service';
import { s256 } from './authorization.service';

interface ExchangeRow extends RevokedGrantRow {
  outcome: 'issued' | 'replay' | 'invalid_grant';
}

/** RFC 7636 §4.1: 43 to 128 characters of the unreserved alphabet. */
const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
const INVALID_CODE = 'The authorization code is invalid, expired, already used, or was issued to another client or redirect URI; start the sign-in again.';

/**
 * RFC 6749 §4.1.3 with RFC 7636 §4.6: exchanges an authorization code for the first access and refresh
 * token of its grant, the grant model every other path (revocation, rotation, introspection, cleanup)
 * already works on. One round trip (oauth_exchange_code), under the grant lock.
 */
@Injectable()
@TokenGrantHandler()
export class AuthorizationCodeGrantHandler implements GrantHandler {
  readonly grantType = 'authorization_code';

  constructor(
    private readonly dataSource: DataSource,
    @Inject(OAUTH_CORE_OPTIONS) private readonly core: ResolvedOAuthCoreOptions,
    private readonly events: RevocationEvents,
  ) {}

  async handle(request: TokenRequest, client: AuthenticatedClient): Promise<TokenResponse> {
    const [code, redirectUri, verifier] = (['code', 'redirect_uri', 'code_verifier'] as const).map((name) => {
      const value = request[name];
      if (value === undefined) throw OAuthException.invalidRequest(`${name} is required with grant_type authorization_code.`);
      return value;
    });
    // A malformed verifier can match no challenge: every failure is invalid_grant (RFC 7636 §4.6).
    // (PostgreSQL text cannot hold a NUL byte: a redirect URI with one matches nothing.)
    if (!CODE_VERIFIER.test(verifier) || code.length > 256 || redirectUri.includes('\0')) throw new OAuthException('invalid_grant', INVALID_CODE);
    const access = generateToken(this.core.tokenPrefixes.access);
    const refresh = generateToken(this.core.tokenPrefixes.refresh);
    const [row]: ExchangeRow[] = await this.dataSource.query(
      'SELECT outcome, grant_id, client_id, subject, scope, reason, revoked_at FROM oauth_exchange_code($1, $2, $3, $4, $5, $6, $7, $8)',
      [hashToken(code), client.clientId, redirectUri, s256(verifier), hashToken(access), this.core.accessTokenTtlSeconds, hashToken(refresh), this.core.refreshTokenTtlSeconds],
    );
    if (row.outcome === 'issued') {
      return withScope({ access_token: access, token_type: 'Bearer', expires_in: this.core.accessTokenTtlSeconds, refresh_token: refresh }, row.scope ?? undefined);
    }
    // RFC 6749 §4.1.2: a code used twice revokes what its first use produced; listeners hear of it first.
    if (row.outcome === 'replay' && row.reason) await this.events.emit(revocationEvent(row, null, client.clientId));
    throw new OAuthException('invalid_grant', INVALID_CODE);
  }
}
