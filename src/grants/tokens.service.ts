import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { GRANTS_OPTIONS, GrantsOptions } from './grants-options';
import { parseScope } from './scope';
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

/**
 * The grant's scope in stored form: RFC 6749 §3.3 tokens joined by single spaces, each once; '' for none.
 * The same rule as the token endpoint's `scope` parameter, so no entry point stores a scope a client
 * could not have asked for.
 */
function grantScope(scope: string | undefined): string {
  if (scope === undefined || scope === '') return '';
  const tokens = parseScope(scope);
  if (!tokens) {
    throw new TokenIssueError('scope must be scope tokens separated by single spaces, each of printable ASCII characters other than space, " and \\ (RFC 6749 §3.3)');
  }
  return tokens.join(' ');
}

/** A new grant of a client that is not disabled; $1 client id, $2 subject, $3 scope. */
const NEW_GRANT_SQL = `INSERT INTO grants (client_id, subject, scope)
  SELECT client_id, $2, $3 FROM clients WHERE client_id = $1 AND disabled_at IS NULL
  RETURNING id, scope`;

@Injectable()
export class TokensService {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(GRANTS_OPTIONS) private readonly options: GrantsOptions,
  ) {}

  /**
   * A new grant with one live access token and one live refresh token: what an authorization-code
   * login ends with. One statement, so a failure leaves nothing half-written.
   */
  async issueGrant(input: IssueGrantInput): Promise<IssuedGrant> {
    const accessTtl = input.accessTtlSeconds ?? this.options.accessTokenTtlSeconds;
    if (!Number.isInteger(accessTtl) || accessTtl <= 0) throw new TokenIssueError('access token TTL must be a positive whole number of seconds');
    const issued = await this.insertPair(NEW_GRANT_SQL, [input.clientId, input.subject ?? null, grantScope(input.scope)], accessTtl);
    if (!issued) throw new TokenIssueError(`unknown or disabled client ${JSON.stringify(input.clientId)}`);
    return issued;
  }

  /**
   * Another access and refresh token pair in an existing, live grant. The grant row is locked first
   * (the same order as revocation), so a pair can never be born into a grant being revoked.
   */
  async issueInGrant(grantId: string, accessTtlSeconds = this.options.accessTokenTtlSeconds): Promise<IssuedGrant> {
    const issued = await this.insertPair(`SELECT id, scope FROM grants WHERE id = $1 AND revoked_at IS NULL FOR UPDATE`, [grantId], accessTtlSeconds);
    if (!issued) throw new TokenIssueError('the grant does not exist or is revoked');
    return issued;
  }

  /**
   * A client_credentials grant (RFC 6749 §4.4): the client acts for itself, so no subject, and one
   * access token without a refresh token (§4.4.3: a refresh token SHOULD NOT be included).
   */
  async issueClientCredentialsGrant(input: Omit<IssueGrantInput, 'subject'>): Promise<Omit<IssuedGrant, 'refresh_token'>> {
    const accessTtl = input.accessTtlSeconds ?? this.options.accessTokenTtlSeconds;
    const issued = await this.insertTokens(NEW_GRANT_SQL, [input.clientId, null, grantScope(input.scope)], accessTtl, false);
    if (!issued) throw new TokenIssueError(`unknown or disabled client ${JSON.stringify(input.clientId)}`);
    const { refresh_token: _none, scope: _scope, ...rest } = issued;
    return rest;
  }

  /**
   * A new grant with one live access and refresh token, created by `grantSql` (an INSERT INTO grants …
   * RETURNING id, scope) after `ctes`, data-modifying statements it reads from (`name AS (UPDATE … RETURNING …)`;
   * PostgreSQL wants them at the top of the one statement). Null when no grant was created: that is how a
   * conditional UPDATE in `ctes` says no, so a credential redeemed twice at once yields one grant.
   */
  async issueGrantAfter(ctes: string, grantSql: string, params: unknown[], accessTtl = this.options.accessTokenTtlSeconds): Promise<(IssuedGrant & { scope: string }) | null> {
    const issued = await this.insertTokens(grantSql, params, accessTtl, true, ctes);
    return issued && { ...issued, refresh_token: issued.refresh_token! };
  }

  /** A pair (see insertTokens) into the grant that `grantSql` yields; null when it yields none. */
  private async insertPair(grantSql: string, grantParams: unknown[], accessTtl: number): Promise<IssuedGrant | null> {
    const issued = await this.insertTokens(grantSql, grantParams, accessTtl, true);
    if (!issued) return null;
    const { scope: _scope, ...pair } = issued;
    return { ...pair, refresh_token: pair.refresh_token! };
  }

  /**
   * Mints an access token, and a refresh token when asked, and inserts them into the grant that
   * `grantSql` (parameters $1..$n) yields, in one statement; null when it yields no grant.
   */
  private async insertTokens(
    grantSql: string,
    grantParams: unknown[],
    accessTtl: number,
    withRefresh: boolean,
    ctes?: string,
  ): Promise<(Omit<IssuedGrant, 'refresh_token'> & { refresh_token: string | null; scope: string }) | null> {
    const accessToken = generateToken(this.options.tokenPrefixes.access);
    const refreshToken = withRefresh ? generateToken(this.options.tokenPrefixes.refresh) : null;
    const n = grantParams.length;
    const rows: Array<{ grant_id: string; scope: string }> = await this.dataSource.query(
      `WITH ${ctes ? `${ctes}, ` : ''}g AS (${grantSql}), a AS (
         INSERT INTO access_tokens (grant_id, token_hash, expires_at)
         SELECT id, $${n + 1}, now() + make_interval(secs => $${n + 2}) FROM g
         RETURNING id, grant_id
       ), r AS (
         INSERT INTO refresh_tokens (grant_id, token_hash, access_token_id, expires_at)
         SELECT grant_id, $${n + 3}, id, now() + make_interval(secs => $${n + 4}) FROM a WHERE $${n + 3}::bytea IS NOT NULL
       )
       SELECT a.grant_id, g.scope FROM a JOIN g ON g.id = a.grant_id`,
      [...grantParams, hashToken(accessToken), accessTtl, refreshToken === null ? null : hashToken(refreshToken), this.options.refreshTokenTtlSeconds],
    );
    if (rows.length === 0) return null;
    return { grant_id: rows[0].grant_id, scope: rows[0].scope, access_token: accessToken, refresh_token: refreshToken, token_type: 'Bearer', expires_in: accessTtl };
  }
}
