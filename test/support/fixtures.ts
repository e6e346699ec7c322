import type { INestApplication } from '@nestjs/common';
import type { Pool } from 'pg';
import { ClientsService, CreatedClient } from '../../src/clients/clients.service';
import type { TokenEndpointAuthMethod } from '../../src/clients/client.entity';
import { hashToken } from '../../src/grants/token-format';
import { IssuedGrant, TokensService } from '../../src/grants/tokens.service';
import { uniqueId } from './test-app';

/** Creates clients and logins through the real services of a running app. */
export class Fixtures {
  constructor(
    private readonly app: INestApplication,
    private readonly pool: Pool,
  ) {}

  client(method: TokenEndpointAuthMethod = 'client_secret_basic', id = uniqueId('client')): Promise<CreatedClient> {
    return this.app.get(ClientsService).create({ clientId: id, authMethod: method });
  }

  login(clientId: string, subject = uniqueId('@user')): Promise<IssuedGrant> {
    return this.app.get(TokensService).issueGrant({ clientId, subject, scope: 'openid' });
  }

  /** Whether the grant, and each of its tokens, is revoked: what every revocation test asserts. */
  async grantState(grantId: string): Promise<{ grantRevoked: boolean; liveAccess: number; liveRefresh: number; tokens: number }> {
    const { rows } = await this.pool.query(
      `SELECT (SELECT revoked_at IS NOT NULL FROM grants WHERE id = $1) AS grant_revoked,
              (SELECT count(*)::int FROM access_tokens WHERE grant_id = $1 AND revoked_at IS NULL) AS live_access,
              (SELECT count(*)::int FROM refresh_tokens WHERE grant_id = $1 AND revoked_at IS NULL) AS live_refresh,
              (SELECT count(*)::int FROM access_tokens WHERE grant_id = $1) + (SELECT count(*)::int FROM refresh_tokens WHERE grant_id = $1) AS tokens`,
      [grantId],
    );
    const r = rows[0];
    return { grantRevoked: r.grant_revoked, liveAccess: r.live_access, liveRefresh: r.live_refresh, tokens: r.tokens };
  }

  async auditRows(grantId: string): Promise<Array<{ reason: string; token_type: string | null; revoking_client_id: string | null; client_id: string }>> {
    const { rows } = await this.pool.query(
      'SELECT reason, token_type, revoking_client_id, client_id FROM revocation_audit WHERE grant_id = $1 ORDER BY id',
      [grantId],
    );
    return rows;
  }

  /** Makes a token look old: expired access tokens are the common logout case. */
  async expireAccessToken(token: string): Promise<void> {
    await this.pool.query(`UPDATE access_tokens SET expires_at = now() - interval '1 hour' WHERE token_hash = $1`, [hashToken(token)]);
  }
}

export function basic(clientId: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return 'Basic ' + Buffer.from(`${enc(clientId)}:${enc(secret)}`).toString('base64');
}
