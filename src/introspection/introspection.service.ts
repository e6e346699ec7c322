import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AuthenticatedClient } from '../clients/authenticated-client';
import { OAUTH_CORE_OPTIONS } from '../core/oauth-core.module-definition';
import type { ResolvedOAuthCoreOptions } from '../core/oauth-core-options.interface';
import { OAuthException } from '../http/oauth.exception';
import { hashToken, parseTokenKind } from '../grants/token-format';

/** RFC 7662 §2.2. An inactive token tells nothing more, whatever the reason. */
export type IntrospectionResponse =
  | { active: false }
  | {
      active: true;
      client_id: string;
      scope: string;
      /** Absent for client_credentials grants, which act for the client itself. */
      sub?: string;
      /** Absent for a refresh token that never expires on its own. */
      exp?: number;
      iat: number;
      token_type: 'Bearer' | 'refresh_token';
      grant_id: string;
    };

interface TokenRow {
  active: boolean;
  grant_id: string;
  client_id: string;
  subject: string | null;
  scope: string;
  iat: string;
  exp: string | null;
}

const INACTIVE: IntrospectionResponse = Object.freeze({ active: false });

/**
 * `POST /oauth2/introspect` decisions (RFC 7662). A token is active when it, and its grant, are neither
 * revoked nor expired (and, for a refresh token, not yet exchanged). One SQL round trip.
 */
@Injectable()
export class IntrospectionService {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(OAUTH_CORE_OPTIONS) private readonly core: ResolvedOAuthCoreOptions,
  ) {}

  async introspectAsRequested(token: string, client: AuthenticatedClient | null): Promise<IntrospectionResponse> {
    // RFC 7662 §2.1, §4: callers must authenticate; with a secret, so that a public client (anyone)
    // cannot probe tokens.
    if (!client?.confidential) {
      throw OAuthException.invalidClient('Token introspection is for confidential clients: authenticate with the client secret.');
    }
    return this.introspect(token);
  }

  async introspect(token: string): Promise<IntrospectionResponse> {
    const kind = parseTokenKind(token, this.core.tokenPrefixes);
    if (!kind) return INACTIVE;
    const rows: TokenRow[] = kind === 'access_token' ? await this.accessToken(hashToken(token)) : await this.refreshToken(hashToken(token));
    const row = rows[0];
    if (!row?.active) return INACTIVE;
    return {
      active: true,
      client_id: row.client_id,
      scope: row.scope,
      ...(row.subject !== null ? { sub: row.subject } : {}),
      ...(row.exp !== null ? { exp: Number(row.exp) } : {}),
      iat: Number(row.iat),
      token_type: kind === 'access_token' ? 'Bearer' : 'refresh_token',
      grant_id: row.grant_id,
    };
  }

  /**
   * Also marks the token's first use, which reuse detection reads: once a resource server has seen the
   * successor of a consumed refresh token, the old one coming back is reuse, not a retry. The first use
   * is an UPDATE that waits for, and then respects, a retry or revocation holding the row: if that
   * revoked the token meanwhile, the answer is inactive. Later uses only read.
   */
  private accessToken(hash: Buffer): Promise<TokenRow[]> {
    return this.dataSource.query(
      `WITH t AS (
         SELECT a.id, a.first_used_at, g.id AS grant_id, g.client_id, g.subject, coalesce(a.scope, g.scope) AS scope,
                floor(extract(epoch FROM a.created_at))::bigint AS iat, floor(extract(epoch FROM a.expires_at))::bigint AS exp
         FROM access_tokens a JOIN grants g ON g.id = a.grant_id
         WHERE a.token_hash = $1 AND a.revoked_at IS NULL AND a.expires_at > now() AND g.revoked_at IS NULL
       ), first_use AS (
         UPDATE access_tokens a SET first_used_at = coalesce(a.first_used_at, now())
         FROM t WHERE a.id = t.id AND t.first_used_at IS NULL AND a.revoked_at IS NULL
         RETURNING a.id
       )
       SELECT t.first_used_at IS NOT NULL OR EXISTS (SELECT 1 FROM first_use) AS active,
              t.grant_id, t.client_id, t.subject, t.scope, t.iat, t.exp
       FROM t`,
      [hash],
    );
  }

  private refreshToken(hash: Buffer): Promise<TokenRow[]> {
    return this.dataSource.query(
      `SELECT true AS active, g.id AS grant_id, g.client_id, g.subject, g.scope,
              floor(extract(epoch FROM r.created_at))::bigint AS iat, floor(extract(epoch FROM r.expires_at))::bigint AS exp
       FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id
       WHERE r.token_hash = $1 AND r.revoked_at IS NULL AND r.consumed_at IS NULL
         AND (r.expires_at IS NULL OR r.expires_at > now()) AND g.revoked_at IS NULL`,
      [hash],
    );
  }
}
