import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AuthenticatedClient } from '../clients/authenticated-client';
import type { GrantType } from '../clients/client.entity';
import { OAUTH_CORE_OPTIONS } from '../core/oauth-core.module-definition';
import type { ResolvedOAuthCoreOptions } from '../core/oauth-core-options.interface';
import { OAuthException } from '../http/oauth.exception';
import { RevocationEvents } from '../core/revocation-events';
import { parseScope } from '../grants/scope';
import { generateToken, hashToken, parseTokenKind } from '../grants/token-format';
import { TokensService } from '../grants/tokens.service';

/** The grant types the token endpoint serves, as discovery lists them. */
export const TOKEN_ENDPOINT_GRANT_TYPES = ['refresh_token', 'client_credentials'] as const satisfies readonly GrantType[];

/** A successful token response (RFC 6749 §5.1). */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token?: string;
  /** The access token's scope, when it has one. */
  scope?: string;
}

/** The parameters of a token request that the decision needs. */
export interface TokenRequest {
  grant_type: string;
  refresh_token?: string;
  scope?: string;
}

/** How a refresh ended, as `oauth_refresh_token` reports it. */
export type RefreshOutcome = 'rotated' | 'retried' | 'reuse' | 'invalid_grant' | 'invalid_scope';

interface RefreshRow {
  outcome: RefreshOutcome;
  grant_id: string | null;
  client_id: string | null;
  subject: string | null;
  scope: string | null;
}

const INVALID_REFRESH = 'The refresh token is invalid, expired, revoked, or was issued to another client; sign in again.';
const REUSED_REFRESH = 'The refresh token was already used; the session has been revoked as a precaution; sign in again.';

/**
 * The decisions of `POST /oauth2/token` (RFC 6749): client_credentials and refresh_token with rotation,
 * reuse detection and lost-response retry. Each grant is one SQL round trip after client authentication.
 */
@Injectable()
export class TokenGrantService {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(OAUTH_CORE_OPTIONS) private readonly core: ResolvedOAuthCoreOptions,
    private readonly tokens: TokensService,
    private readonly events: RevocationEvents,
  ) {}

  /** A token request as the endpoint received it. Throws OAuthException for every refusal. */
  async exchange(request: TokenRequest, client: AuthenticatedClient | null): Promise<TokenResponse> {
    // RFC 6749 §3.2.1: the token endpoint needs to know the client, public ones included.
    if (client === null) {
      throw OAuthException.invalidClient('The token endpoint requires client authentication: send client_id, with the client secret for a confidential client.');
    }
    const grantType = TOKEN_ENDPOINT_GRANT_TYPES.find((g) => g === request.grant_type);
    if (!grantType) {
      throw new OAuthException('unsupported_grant_type', `This server supports grant_type ${TOKEN_ENDPOINT_GRANT_TYPES.join(' and ')}.`);
    }
    // RFC 6749 §4.4: client_credentials is for confidential clients only, whatever their registration says.
    if (!client.grantTypes.includes(grantType) || (grantType === 'client_credentials' && !client.confidential)) {
      throw new OAuthException('unauthorized_client', `This client is not allowed the ${grantType} grant type.`);
    }
    const scope = parseScope(request.scope);
    if (scope === null) throw new OAuthException('invalid_scope', 'scope must be scope tokens separated by single spaces (RFC 6749 §3.3).');
    if (grantType === 'client_credentials') {
      const issued = await this.tokens.issueClientCredentialsGrant({ clientId: client.clientId, scope: scope?.join(' ') ?? '' });
      return withScope({ access_token: issued.access_token, token_type: 'Bearer', expires_in: issued.expires_in }, scope?.join(' '));
    }
    if (request.refresh_token === undefined) throw OAuthException.invalidRequest('refresh_token is required with grant_type refresh_token.');
    return this.refresh(request.refresh_token, client.clientId, scope);
  }

  /**
   * Exchanges a refresh token for a new pair in the same grant (rotation), or answers a retry of an
   * exchange whose response was lost, or detects reuse and revokes the grant. The decision is made in
   * the database under the grant lock (see oauth_refresh_token), so it cannot race a revocation.
   */
  async refresh(refreshToken: string, clientId: string, scope?: string[]): Promise<TokenResponse> {
    // Not one of our refresh tokens: it cannot exist, no lookup needed.
    if (parseTokenKind(refreshToken, this.core.tokenPrefixes) !== 'refresh_token') throw new OAuthException('invalid_grant', INVALID_REFRESH);
    const access = generateToken(this.core.tokenPrefixes.access);
    const refresh = generateToken(this.core.tokenPrefixes.refresh);
    const rows: RefreshRow[] = await this.dataSource.query(
      'SELECT outcome, grant_id, client_id, subject, scope FROM oauth_refresh_token($1, $2, $3, $4, $5, $6, $7)',
      [hashToken(refreshToken), clientId, scope ?? null, hashToken(access), this.core.accessTokenTtlSeconds, hashToken(refresh), this.core.refreshTokenTtlSeconds],
    );
    const row = rows[0];
    switch (row.outcome) {
      case 'rotated':
      case 'retried':
        return withScope({ access_token: access, token_type: 'Bearer', expires_in: this.core.accessTokenTtlSeconds, refresh_token: refresh }, row.scope ?? undefined);
      case 'reuse':
        // The revocation has committed (the statement above); listeners hear of it before the client does.
        this.events.emit({
          grantId: row.grant_id!,
          clientId: row.client_id!,
          subject: row.subject,
          scope: row.scope ?? '',
          tokenType: 'refresh_token',
          revokingClientId: clientId,
          reason: 'refresh_token_reuse',
          // Two parties held the same session: the token has most likely leaked.
          suspicious: true,
          revokedAt: new Date(),
        });
        throw new OAuthException('invalid_grant', REUSED_REFRESH);
      case 'invalid_scope':
        throw new OAuthException('invalid_scope', 'The requested scope exceeds the scope of the grant (RFC 6749 §6).');
      default:
        throw new OAuthException('invalid_grant', INVALID_REFRESH);
    }
  }
}

function withScope(response: TokenResponse, scope: string | undefined): TokenResponse {
  return scope ? { ...response, scope } : response;
}
