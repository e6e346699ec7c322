import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { OAUTH_CORE_OPTIONS } from '../oauth/oauth-core.module-definition';
import type { ResolvedOAuthCoreOptions } from '../oauth/oauth-core-options.interface';
import { generateToken, hashToken } from './token-format';

export interface IssueGrantInput {
  clientId: string;
  subject?: string | null;
  scope?: string;
  accessTtlSeconds?: number;
}

export interface IssuedGrant {
  grant_id: string;
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

export class TokenIssueError extends Error {
  override name = 'TokenIssueError';
}

@Injectable()
export class TokensService {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(OAUTH_CORE_OPTIONS) private readonly options: ResolvedOAuthCoreOptions,
  ) {}

  /**
   * A new grant with one live access token and one live refresh token: what an authorization-code
   * login ends with. One statement, so a failure leaves nothing half-written.
   */
  async issueGrant(input: IssueGrantInput): Promise<IssuedGrant> {
    const refreshToken = generateToken(this.options.tokenPrefixes.refresh);
    const issued = await this.insertGrant(input, refreshToken);
    return { ...issued, refresh_token: refreshToken };
  }

  /**
   * A client_credentials grant (RFC 6749 §4.4): the client acts for itself, so no subject, and one
   * access token without a refresh token (§4.4.3: a refresh token SHOULD NOT be included).
   */
  async issueClientCredentialsGrant(input: Omit<IssueGrantInput, 'subject'>): Promise<Omit<IssuedGrant, 'refresh_token'>> {
    return this.insertGrant({ ...input, subject: null }, null);
  }

  private async insertGrant(input: IssueGrantInput, refreshToken: string | null): Promise<Omit<IssuedGrant, 'refresh_token'>> {
    const accessTtl = input.accessTtlSeconds ?? this.options.accessTokenTtlSeconds;
    if (!Number.isInteger(accessTtl) || accessTtl <= 0) throw new TokenIssueError('access token TTL must be a positive whole number of seconds');
    const accessToken = generateToken(this.options.tokenPrefixes.access);
    const rows: Array<{ grant_id: string }> = await this.dataSource.query(
      `WITH g AS (
         INSERT INTO grants (client_id, subject, scope)
         SELECT client_id, $2, $3 FROM clients WHERE client_id = $1 AND disabled_at IS NULL
         RETURNING id
       ), a AS (
         INSERT INTO access_tokens (grant_id, token_hash, expires_at)
         SELECT id, $4, now() + make_interval(secs => $5) FROM g
         RETURNING id, grant_id
       ), r AS (
         INSERT INTO refresh_tokens (grant_id, token_hash, access_token_id, expires_at)
         SELECT grant_id, $6, id, now() + make_interval(secs => $7) FROM a WHERE $6::bytea IS NOT NULL
       )
       SELECT grant_id FROM a`,
      [
        input.clientId,
        input.subject ?? null,
        input.scope ?? '',
        hashToken(accessToken),
        accessTtl,
        refreshToken === null ? null : hashToken(refreshToken),
        this.options.refreshTokenTtlSeconds,
      ],
    );
    if (rows.length === 0) throw new TokenIssueError(`unknown or disabled client ${JSON.stringify(input.clientId)}`);
    return { grant_id: rows[0].grant_id, access_token: accessToken, token_type: 'Bearer', expires_in: accessTtl };
  }

  /**
   * Another access and refresh token pair in an existing, live grant. The grant row is locked first
   * (the same order as revocation), so a pair can never be born into a grant being revoked.
   */
  async issueInGrant(grantId: string, accessTtlSeconds = this.options.accessTokenTtlSeconds): Promise<Omit<IssuedGrant, 'grant_id'>> {
    const accessToken = generateToken(this.options.tokenPrefixes.access);
    const refreshToken = generateToken(this.options.tokenPrefixes.refresh);
    const rows: unknown[] = await this.dataSource.query(
      `WITH g AS (
         SELECT id FROM grants WHERE id = $1 AND revoked_at IS NULL FOR UPDATE
       ), a AS (
         INSERT INTO access_tokens (grant_id, token_hash, expires_at)
         SELECT id, $2, now() + make_interval(secs => $3) FROM g
         RETURNING id, grant_id
       )
       INSERT INTO refresh_tokens (grant_id, token_hash, access_token_id, expires_at)
       SELECT grant_id, $4, id, now() + make_interval(secs => $5) FROM a
       RETURNING grant_id`,
      [grantId, hashToken(accessToken), accessTtlSeconds, hashToken(refreshToken), this.options.refreshTokenTtlSeconds],
    );
    if (rows.length === 0) throw new TokenIssueError('the grant does not exist or is revoked');
    return { access_token: accessToken, refresh_token: refreshToken, token_type: 'Bearer', expires_in: accessTtlSeconds };
  }
}
