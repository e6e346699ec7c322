import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { startResourceHost } from './fixtures/resource-host';
import { Fixtures } from './support/fixtures';
import { TcpProxy } from './support/tcp-proxy';
import { openTestPool, testDatabaseUrl, testPoolSize } from './support/test-database';
import { hashToken } from '../src/grants/token-format';
import { ClientsService, TokensService } from '../src/index';

const REALM = 'Bearer realm="https://auth.example.com"';

/** RFC 6750 on a host's own routes: the exported guard, scopes, and what it answers when it cannot check. */
describe('BearerTokenGuard on a host app route', () => {
  let proxy: TcpProxy;
  let app: INestApplication;
  let http: ReturnType<typeof request>;
  let fx: Fixtures;
  const pool = openTestPool();

  beforeAll(async () => {
    proxy = await TcpProxy.start(testDatabaseUrl());
    app = await startResourceHost(proxy.url(testDatabaseUrl()), testPoolSize());
    http = request(app.getHttpServer());
    fx = new Fixtures(app, pool);
  });
  afterAll(async () => {
    await app.close();
    await proxy.stop();
    await pool.end();
  });

  async function login(scope = 'openid urn:matrix:client:api:*') {
    const c = await app.get(ClientsService).create({ clientId: `rs-${Date.now()}-${Math.random().toString(36).slice(2)}`, authMethod: 'none' });
    return app.get(TokensService).issueGrant({ clientId: c.client_id, subject: '@alice:example.org', scope });
  }
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

  it('lets a live access token through and hands the route its subject, client, scope, grant and expiry', async () => {
    const grant = await login();
    const res = await http.get('/api/me').set(bearer(grant.access_token));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ subject: '@alice:example.org', clientId: expect.any(String), scope: ['openid', 'urn:matrix:client:api:*'], grantId: grant.grant_id, expiresAt: expect.any(String) });
    // A resource server saw it: its first use is recorded, as introspection records it (reuse detection reads it).
    const { rows } = await pool.query('SELECT first_used_at IS NOT NULL AS used FROM access_tokens WHERE token_hash = $1', [hashToken(grant.access_token)]);
    expect(rows).toEqual([{ used: true }]);
  });

  it('answers 401 with the bare challenge when no token is sent (RFC 6750 §3.1)', async () => {
    const res = await http.get('/api/me');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(REALM);
  });

  it.each([
    ['a refresh token', async () => (await login()).refresh_token],
    ['an unknown well-formed token', async () => 'oat_' + 'A'.repeat(38)],
    ['a malformed token', async () => 'not-a-token'],
    ['a revoked token', async () => {
      const grant = await login();
      await pool.query(`SELECT * FROM oauth_revoke_grant($1, NULL, NULL, 'admin')`, [grant.grant_id]);
      return grant.access_token;
    }],
    ['an expired token', async () => {
      const grant = await login();
      await fx.expireAccessToken(grant.access_token);
      return grant.access_token;
    }],
  ])('answers 401 invalid_token to %s', async (_name, make) => {
    const res = await http.get('/api/me').set(bearer(await make()));
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(new RegExp(`^${REALM}, error="invalid_token"`));
    expect(res.body).toEqual({ error: 'invalid_token', error_description: 'The access token is unknown, expired or revoked.' });
  });

  it('refuses the token in the query string (RFC 6750 §2.3) even when it is valid', async () => {
    const grant = await login();
    const res = await http.get(`/api/me?access_token=${grant.access_token}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it('answers 403 insufficient_scope naming the scope a route needs', async () => {
    const narrow = await login('openid');
    const res = await http.get('/api/rooms').set(bearer(narrow.access_token));
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toBe(`${REALM}, error="insufficient_scope", error_description="This resource needs the scope urn:matrix:client:api:*.", scope="urn:matrix:client:api:*"`);
    expect((await http.get('/api/rooms').set(bearer((await login()).access_token))).status).toBe(200);
  });

  it('answers 503 temporarily_unavailable with Retry-After when the database cannot be reached, never 500', async () => {
    const grant = await login();
    proxy.cut();
    try {
      const res = await http.get('/api/me').set(bearer(grant.access_token));
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.body.error).toBe('temporarily_unavailable');
    } finally {
      proxy.restore();
    }
    expect((await http.get('/api/me').set(bearer(grant.access_token))).status).toBe(200);
  });
});
