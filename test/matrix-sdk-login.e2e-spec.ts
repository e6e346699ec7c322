import { hashToken } from '../src/grants/token-format';
import { UsersService } from '../src/login/users.service';
import { runMatrixSdkScript } from './support/matrix-sdk';
import { startTestServer, TestServer, uniqueId } from './support/test-app';

const ISSUER = 'http://localhost:3000';

const matrixClient = (config: Record<string, string>) => runMatrixSdkScript('matrix-sdk-login.mjs', config);

/**
 * A real Matrix client, unmodified: matrix-js-sdk's OAuth2 class validates the discovered metadata (from
 * the Matrix alias), registers itself, logs a person in through the built-in login and consent pages
 * (driven over HTTP with a cookie jar, as a browser would), exchanges the code, refreshes, logs out by
 * revoking, and finds its next refresh refused.
 */
describe('matrix-js-sdk logs in, refreshes and logs out', () => {
  let server: TestServer;
  const username = uniqueId('alice');
  const password = 'correct horse battery staple';

  beforeAll(async () => {
    server = await startTestServer({ DISCOVERY_MATRIX_AUTH_METADATA_ALIAS: 'true' });
    await server.app.get(UsersService).create(username, password);
  });
  afterAll(() => server.close());

  it.each([
    ['a native client (loopback redirect, any port), response_mode=query', 'native', 'query'],
    ['a native client, response_mode=fragment', 'native', 'fragment'],
    ['a web client (https redirect), response_mode=fragment', 'web', 'fragment'],
  ])('%s', async (_name, applicationType, responseMode) => {
    const seen = await matrixClient({ base: server.url, issuer: ISSUER, username, password, responseMode, applicationType });
    expect(seen.validMetadata).toBe(true);
    expect(seen.callback).toEqual({ mode: responseMode, inQuery: responseMode === 'query', state: true, iss: ISSUER });
    expect(seen.tokens).toMatchObject({ accessPrefix: 'oat_', hasRefresh: true });
    expect(seen.tokens.scope).toMatch(/urn:matrix:client:api:\*/);
    expect(seen.refreshed).toBe(true);
    expect(seen.refreshAfterLogout).toBeGreaterThanOrEqual(400);
    expect(seen.refreshAfterLogout).toBeLessThan(500);
    // In the database: the client registered itself, and the session it logged out of is revoked whole.
    const client = await server.pool.query('SELECT application_type, registered_at IS NOT NULL AS dynamic FROM clients WHERE client_id = $1', [seen.clientId]);
    expect(client.rows).toEqual([{ application_type: applicationType, dynamic: true }]);
    const grant = await server.pool.query(
      `SELECT g.revoked_at IS NOT NULL AS revoked, g.revocation_reason, g.scope,
              (SELECT count(*)::int FROM access_tokens a WHERE a.grant_id = g.id AND a.revoked_at IS NULL) AS live_access,
              (SELECT count(*)::int FROM refresh_tokens r WHERE r.grant_id = g.id AND r.revoked_at IS NULL) AS live_refresh
       FROM grants g JOIN access_tokens t ON t.grant_id = g.id WHERE t.token_hash = $1`,
      [hashToken(seen.accessToken)],
    );
    expect(grant.rows).toEqual([{ revoked: true, revocation_reason: 'client_request', scope: expect.stringMatching(/urn:matrix:client:device:/), live_access: 0, live_refresh: 0 }]);
  }, 90_000);

  it('the person ends the session on the account page the SDK would open (session_end with its device id), and the SDK\'s refresh then fails', async () => {
    const seen = await matrixClient({ base: server.url, issuer: ISSUER, username, password, responseMode: 'fragment', applicationType: 'web', logout: 'account' });
    expect(seen.validMetadata).toBe(true);
    expect(seen.accountManagement).toEqual({ uri: `${ISSUER}/account`, actions: expect.arrayContaining(['org.matrix.session_end', 'org.matrix.sessions_list']) });
    expect(seen.accountPage).toBe('Sign out this session?');
    expect(seen.accountEnd).toEqual({ status: 303, location: '/account?notice=ended' });
    expect(seen.refreshAfterLogout).toBeGreaterThanOrEqual(400);
    expect(seen.refreshAfterLogout).toBeLessThan(500);
    const grant = await server.pool.query(
      `SELECT g.revocation_reason, (SELECT count(*)::int FROM revocation_audit r WHERE r.grant_id = g.id AND r.reason = 'user_request') AS audits
       FROM grants g JOIN access_tokens t ON t.grant_id = g.id WHERE t.token_hash = $1`,
      [hashToken(seen.accessToken)],
    );
    expect(grant.rows).toEqual([{ revocation_reason: 'user_request', audits: 1 }]);
  }, 90_000);
});
