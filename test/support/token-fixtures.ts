import type { Pool } from 'pg';
import type request from 'supertest';
import type { CreatedClient } from '../../src/clients/clients.service';
import { hashToken } from '../../src/grants/token-format';
import { basic } from './fixtures';

type Http = ReturnType<typeof request>;

/** Form-encodes parameters the way an OAuth client does. */
export function form(params: Record<string, string | undefined>): string {
  return Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v!)}`)
    .join('&');
}

/** Calls the OAuth endpoints of a test server as the given client (Basic for confidential, client_id for public). */
export class OAuthCalls {
  constructor(private readonly http: Http) {}

  post(path: string, params: Record<string, string | undefined>, client?: CreatedClient): request.Test {
    const req = this.http.post(path).type('form');
    if (client?.client_secret) req.set('Authorization', basic(client.client_id, client.client_secret));
    return req.send(form({ ...(client && !client.client_secret ? { client_id: client.client_id } : {}), ...params }));
  }

  refresh(refreshToken: string, client: CreatedClient, extra: Record<string, string> = {}): request.Test {
    return this.post('/oauth2/token', { grant_type: 'refresh_token', refresh_token: refreshToken, ...extra }, client);
  }

  clientCredentials(client: CreatedClient, extra: Record<string, string> = {}): request.Test {
    return this.post('/oauth2/token', { grant_type: 'client_credentials', ...extra }, client);
  }

  introspect(token: string, resourceServer: CreatedClient): request.Test {
    return this.post('/oauth2/introspect', { token }, resourceServer);
  }

  revoke(token: string, client?: CreatedClient): request.Test {
    return this.post('/oauth2/revoke', { token }, client);
  }
}

export interface AccessTokenRow {
  id: string;
  grant_id: string;
  revoked: boolean;
  first_used: boolean;
  scope: string | null;
}

export interface RefreshTokenRow {
  id: string;
  grant_id: string;
  access_token_id: string | null;
  revoked: boolean;
  consumed: boolean;
  superseded: boolean;
  successor_id: string | null;
}

/** Reads token rows by plaintext (through their hash), for asserting what the database holds. */
export class TokenRows {
  constructor(private readonly pool: Pool) {}

  async access(token: string): Promise<AccessTokenRow | undefined> {
    const { rows } = await this.pool.query(
      `SELECT id, grant_id, revoked_at IS NOT NULL AS revoked, first_used_at IS NOT NULL AS first_used, scope
       FROM access_tokens WHERE token_hash = $1`,
      [hashToken(token)],
    );
    return rows[0];
  }

  async refresh(token: string): Promise<RefreshTokenRow | undefined> {
    const { rows } = await this.pool.query(
      `SELECT id, grant_id, access_token_id, revoked_at IS NOT NULL AS revoked, consumed_at IS NOT NULL AS consumed,
              superseded_at IS NOT NULL AS superseded, successor_id
       FROM refresh_tokens WHERE token_hash = $1`,
      [hashToken(token)],
    );
    return rows[0];
  }

  /** Tokens of the grant that would still be accepted: neither revoked nor expired (nor exchanged, for refresh tokens). */
  async live(grantId: string): Promise<{ access: number; refresh: number }> {
    const { rows } = await this.pool.query(
      `SELECT (SELECT count(*)::int FROM access_tokens WHERE grant_id = $1 AND revoked_at IS NULL AND expires_at > now()) AS access,
              (SELECT count(*)::int FROM refresh_tokens WHERE grant_id = $1 AND revoked_at IS NULL AND consumed_at IS NULL AND (expires_at IS NULL OR expires_at > now())) AS refresh`,
      [grantId],
    );
    return rows[0];
  }

  async grant(grantId: string): Promise<{ revoked: boolean; revocation_reason: string | null; revoked_by_client_id: string | null } | undefined> {
    const { rows } = await this.pool.query(
      'SELECT revoked_at IS NOT NULL AS revoked, revocation_reason, revoked_by_client_id FROM grants WHERE id = $1',
      [grantId],
    );
    return rows[0];
  }

  async counts(grantId: string): Promise<{ access: number; refresh: number; audit: number }> {
    const { rows } = await this.pool.query(
      `SELECT (SELECT count(*)::int FROM access_tokens WHERE grant_id = $1) AS access,
              (SELECT count(*)::int FROM refresh_tokens WHERE grant_id = $1) AS refresh,
              (SELECT count(*)::int FROM revocation_audit WHERE grant_id = $1) AS audit`,
      [grantId],
    );
    return rows[0];
  }
}
