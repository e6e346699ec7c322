import request from 'supertest';
import { hashToken } from '../src/grants/token-format';
import { UsersService } from '../src/login/users.service';
import { Fixtures } from './support/fixtures';
import { runMatrixSdkScript } from './support/matrix-sdk';
import { startTestServer, TestServer, uniqueId } from './support/test-app';
import { OAuthCalls } from './support/token-fixtures';

const ISSUER = 'http://localhost:3000';

const matrixDevice = (config: Record<string, string | boolean>) => runMatrixSdkScript('matrix-sdk-device.mjs', config);

/**
 * A real Matrix client, unmodified: matrix-js-sdk's OAuth2 registers itself (asking for the device grant
 * because discovery lists it), starts the device authorization grant and waits for it (polling the token
 * endpoint) while a person answers on the verification page, driven over HTTP as a browser would.
 */
describe('matrix-js-sdk signs a device in with the device authorization grant', () => {
  let server: TestServer;
  let calls: OAuthCalls;
  let resourceServer: Awaited<ReturnType<Fixtures['client']>>;
  const username = uniqueId('alice');
  const password = 'correct horse battery staple';

  beforeAll(async () => {
    // Polls every second instead of five: the SDK waits `interval` between polls.
    server = await startTestServer({ DISCOVERY_MATRIX_AUTH_METADATA_ALIAS: 'true', DEVICE_POLL_INTERVAL_SECONDS: '1' });
    await server.app.get(UsersService).create(username, password);
    calls = new OAuthCalls(request(server.app.getHttpServer()));
    resourceServer = await new Fixtures(server.app, server.pool).client('client_secret_basic');
  });
  afterAll(() => server.close());

  it('gets working tokens once the person allows: introspection active, a grant for the person with the device scope', async () => {
    const seen = await matrixDevice({ base: server.url, issuer: ISSUER, username, password, decision: 'allow' });
    expect(seen.validMetadata).toBe(true);
    expect(seen.deviceEndpoint).toBe(`${ISSUER}/oauth2/device`);
    expect(seen.session).toMatchObject({ verificationUri: `${ISSUER}/device`, interval: 1, expiresIn: 600 });
    expect(seen.pages).toEqual(['Connect a device', 'Sign in', 'Allow access?', 'Device connected']);
    expect(seen.consentShowsCode).toBe(true);
    expect(seen.tokens).toMatchObject({ accessPrefix: 'oat_', hasRefresh: true });
    expect(seen.tokens.scope).toMatch(/^urn:matrix:client:api:\* urn:matrix:client:device:\S+$/);
    expect(seen.refreshed).toBe(true);
    const introspected = await calls.introspect(seen.refreshedAccessToken, resourceServer);
    expect(introspected.body).toMatchObject({ active: true, client_id: seen.clientId, scope: seen.tokens.scope });
    const { rows } = await server.pool.query(
      `SELECT g.subject, u.username, g.scope, d.status FROM grants g JOIN access_tokens t ON t.grant_id = g.id
       JOIN users u ON u.id::text = g.subject JOIN device_codes d ON d.grant_id = g.id WHERE t.token_hash = $1`,
      [hashToken(seen.accessToken)],
    );
    expect(rows).toEqual([{ subject: expect.any(String), username, scope: seen.tokens.scope, status: 'issued' }]);
    const registered = await server.pool.query('SELECT grant_types FROM clients WHERE client_id = $1', [seen.clientId]);
    expect(registered.rows[0].grant_types).toContain('urn:ietf:params:oauth:grant-type:device_code');
  }, 90_000);

  it('loses its session when the person ends it on the account page: the grant revoked as user_request, both tokens dead', async () => {
    const seen = await matrixDevice({ base: server.url, issuer: ISSUER, username, password, decision: 'allow', endOnAccountPage: true });
    expect(seen.refreshed).toBe(true);
    expect(seen.accountPage).toBe('Sign out this session?');
    expect(seen.accountAfterEnd.url).toBe(`${ISSUER}/account?notice=ended`);
    expect(seen.refreshAfterEnd).toBeGreaterThanOrEqual(400);
    expect(seen.refreshAfterEnd).toBeLessThan(500);
    const introspected = await calls.introspect(seen.refreshedAccessToken, resourceServer);
    expect(introspected.body).toEqual({ active: false });
    const { rows } = await server.pool.query(
      `SELECT g.revocation_reason, g.revoked_by_client_id, a.reason AS audit_reason,
              (SELECT count(*)::int FROM refresh_tokens r WHERE r.grant_id = g.id AND r.revoked_at IS NULL) AS live_refresh
         FROM grants g JOIN access_tokens t ON t.grant_id = g.id JOIN revocation_audit a ON a.grant_id = g.id
        WHERE t.token_hash = $1`,
      [hashToken(seen.refreshedAccessToken)],
    );
    expect(rows).toEqual([{ revocation_reason: 'user_request', revoked_by_client_id: null, audit_reason: 'user_request', live_refresh: 0 }]);
  }, 90_000);

  it('hears access_denied when the person denies', async () => {
    const seen = await matrixDevice({ base: server.url, issuer: ISSUER, username, password, decision: 'deny' });
    expect(seen.pages).toEqual(['Connect a device', 'Sign in', 'Allow access?', 'Access denied']);
    expect(seen.error).toBe('access_denied');
    expect(seen.tokens).toBeUndefined();
    const { rows } = await server.pool.query('SELECT count(*)::int AS n FROM grants WHERE client_id = $1', [seen.clientId]);
    expect(rows[0].n).toBe(0);
  }, 90_000);
});
