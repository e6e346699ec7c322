import request from 'supertest';
import { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner';
import { ClientsService, CreatedClient } from '../src/clients/clients.service';
import { RegisteredClientCleanupService } from '../src/registration/registered-client-cleanup.service';
import { TokenCleanupService } from '../src/grants/token-cleanup.service';
import { hashToken } from '../src/grants/token-format';
import type { IssuedGrant } from '../src/grants/tokens.service';
import { runAdmin } from './support/admin-cli';
import { Fixtures } from './support/fixtures';
import { waitFor } from './support/processes';
import { startTestServer, TestServer } from './support/test-app';
import { testDatabaseKind, testDatabaseUrl } from './support/test-database';
import { OAuthCalls, TokenRows } from './support/token-fixtures';

/**
 * Retention cleanup deletes whatever in the shared test database is stale, so every stale row here is
 * made by this file (other specs only ever backdate by hours or a day), and the tests run in order.
 * Timestamps are backdated with SQL; the default retention is 30 days.
 */
describe('retention cleanup (tokens:cleanup and the in-app interval)', () => {
  let server: TestServer;
  let fx: Fixtures;
  let calls: OAuthCalls;
  let db: TokenRows;
  let app: CreatedClient;

  beforeAll(async () => {
    server = await startTestServer();
    fx = new Fixtures(server.app, server.pool);
    calls = new OAuthCalls(request(server.app.getHttpServer()));
    db = new TokenRows(server.pool);
    app = await fx.client('none');
  });
  afterAll(() => server.close());

  /** Moves a grant's timestamps `days` into the past, as if it had all happened then. */
  const backdate = async (grantId: string, days: number, what: { grant?: boolean; tokens?: boolean } = { grant: true, tokens: true }) => {
    const ago = `now() - make_interval(days => $2)`;
    if (what.grant) {
      await server.pool.query(`UPDATE grants SET created_at = ${ago} - interval '1 day', revoked_at = CASE WHEN revoked_at IS NULL THEN NULL ELSE ${ago} END WHERE id = $1`, [grantId, days]);
    }
    if (what.tokens) {
      for (const table of ['access_tokens', 'refresh_tokens']) {
        await server.pool.query(
          `UPDATE ${table} SET created_at = ${ago} - interval '1 day', expires_at = ${ago},
             revoked_at = CASE WHEN revoked_at IS NULL THEN NULL ELSE ${ago} END WHERE grant_id = $1`,
          [grantId, days],
        );
      }
    }
  };
  const exists = async (grantId: string) => (await server.pool.query('SELECT 1 FROM grants WHERE id = $1', [grantId])).rowCount === 1;
  const cleanup = () => server.app.get(TokenCleanupService).cleanup();

  it('tokens:cleanup deletes what is past retention, keeps the rest and audit rows, and prints exactly one JSON object', async () => {
    await cleanup(); // start from nothing stale, so that the counts below are exactly this test's

    // Revoked 40 days ago: tokens and grant go, the audit row stays.
    const revokedLongAgo = await fx.login(app.client_id);
    await calls.revoke(revokedLongAgo.access_token, app);
    await backdate(revokedLongAgo.grant_id, 40);
    // Revoked 10 days ago: still inside retention, everything stays.
    const revokedRecently = await fx.login(app.client_id);
    await calls.revoke(revokedRecently.access_token, app);
    await backdate(revokedRecently.grant_id, 10);
    // Never revoked, every token expired 40 days ago: tokens and grant go.
    const expiredLongAgo = await fx.login(app.client_id);
    await backdate(expiredLongAgo.grant_id, 40);
    // A live session that rotated long ago: the old pair goes, the live pair and the grant stay.
    const live = await fx.login(app.client_id);
    const current = await calls.refresh(live.refresh_token, app);
    for (const table of ['access_tokens', 'refresh_tokens']) {
      await server.pool.query(
        `UPDATE ${table} SET expires_at = now() - interval '40 days', revoked_at = CASE WHEN revoked_at IS NULL THEN NULL ELSE now() - interval '40 days' END
         WHERE grant_id = $1 AND token_hash <> ALL ($2)`,
        [live.grant_id, [current.body.access_token, current.body.refresh_token].map((t) => hashToken(t))],
      );
    }

    const r = await runAdmin(['tokens:cleanup']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.json).toEqual({ deleted_access_tokens: 3, deleted_refresh_tokens: 3, deleted_grants: 2, deleted_authorization_requests: 0, deleted_authorization_codes: 0, deleted_device_codes: 0, deleted_clients: 0 });

    expect(await exists(revokedLongAgo.grant_id)).toBe(false);
    expect(await db.counts(revokedLongAgo.grant_id)).toEqual({ access: 0, refresh: 0, audit: 1 });
    expect(await db.counts(revokedRecently.grant_id)).toEqual({ access: 1, refresh: 1, audit: 1 });
    expect(await exists(revokedRecently.grant_id)).toBe(true);
    expect(await exists(expiredLongAgo.grant_id)).toBe(false);
    expect(await db.counts(expiredLongAgo.grant_id)).toEqual({ access: 0, refresh: 0, audit: 0 });
    expect(await exists(live.grant_id)).toBe(true);
    expect(await db.counts(live.grant_id)).toEqual({ access: 1, refresh: 1, audit: 0 });
    // The live pair still works after its predecessors are gone.
    expect((await calls.refresh(current.body.refresh_token, app)).status).toBe(200);
  });

  it('keeps a consumed refresh token until it expires plus retention, so that its return is still caught as reuse', async () => {
    const login = await fx.login(app.client_id);
    const first = await calls.refresh(login.refresh_token, app);
    await calls.refresh(first.body.refresh_token, app);
    await server.pool.query(`UPDATE refresh_tokens SET consumed_at = now() - interval '40 days', created_at = now() - interval '41 days' WHERE token_hash = $1`, [
      hashToken(login.refresh_token),
    ]);
    await cleanup();
    expect(await db.refresh(login.refresh_token)).toMatchObject({ consumed: true });
    expect((await calls.refresh(login.refresh_token, app)).body.error).toBe('invalid_grant');
    expect(await db.grant(login.grant_id)).toMatchObject({ revoked: true, revocation_reason: 'refresh_token_reuse' });
  });

  it('keeps a token expired within retention, so that presenting it still revokes its grant', async () => {
    const login = await fx.login(app.client_id);
    await backdate(login.grant_id, 10, { tokens: true });
    expect(await cleanup()).toEqual({ deleted_access_tokens: 0, deleted_refresh_tokens: 0, deleted_grants: 0, deleted_authorization_requests: 0, deleted_authorization_codes: 0, deleted_device_codes: 0 });
    expect((await calls.revoke(login.access_token, app)).status).toBe(200);
    expect(await db.grant(login.grant_id)).toMatchObject({ revoked: true });
  });

  it('keeps an access token expired long ago while the refresh token issued with it is live, so logging out with it still revokes the grant', async () => {
    const login = await fx.login(app.client_id);
    await server.pool.query(`UPDATE access_tokens SET expires_at = now() - interval '40 days' WHERE grant_id = $1`, [login.grant_id]);
    expect(await cleanup()).toEqual({ deleted_access_tokens: 0, deleted_refresh_tokens: 0, deleted_grants: 0, deleted_authorization_requests: 0, deleted_authorization_codes: 0, deleted_device_codes: 0 });
    expect((await calls.revoke(login.access_token, app)).status).toBe(200);
    expect(await fx.grantState(login.grant_id)).toMatchObject({ grantRevoked: true, liveRefresh: 0 });
    // Once nothing live depends on it, the long-expired access token is stale like any other.
    expect(await cleanup()).toEqual({ deleted_access_tokens: 1, deleted_refresh_tokens: 0, deleted_grants: 0, deleted_authorization_requests: 0, deleted_authorization_codes: 0, deleted_device_codes: 0 });
  });

  it('deletes a revoked grant left without tokens once its own revocation is past retention', async () => {
    const login = await fx.login(app.client_id);
    await calls.revoke(login.access_token, app);
    // Its tokens expired long before it was revoked 10 days ago: they go now, the grant stays for now.
    await backdate(login.grant_id, 40, { tokens: true });
    await server.pool.query(`UPDATE access_tokens SET revoked_at = now() - interval '10 days' WHERE grant_id = $1`, [login.grant_id]);
    await server.pool.query(`UPDATE refresh_tokens SET revoked_at = now() - interval '10 days' WHERE grant_id = $1`, [login.grant_id]);
    await server.pool.query(`UPDATE grants SET revoked_at = now() - interval '10 days', created_at = now() - interval '50 days' WHERE id = $1`, [login.grant_id]);
    expect(await cleanup()).toEqual({ deleted_access_tokens: 1, deleted_refresh_tokens: 1, deleted_grants: 0, deleted_authorization_requests: 0, deleted_authorization_codes: 0, deleted_device_codes: 0 });
    expect(await exists(login.grant_id)).toBe(true);
    await server.pool.query(`UPDATE grants SET revoked_at = now() - interval '31 days' WHERE id = $1`, [login.grant_id]);
    expect(await cleanup()).toEqual({ deleted_access_tokens: 0, deleted_refresh_tokens: 0, deleted_grants: 1, deleted_authorization_requests: 0, deleted_authorization_codes: 0, deleted_device_codes: 0 });
    expect(await exists(login.grant_id)).toBe(false);
    expect(await db.counts(login.grant_id)).toEqual({ access: 0, refresh: 0, audit: 1 });
  });

  it('deletes every token of a grant revoked before the cutoff, also tokens whose own expiry lies ahead', async () => {
    const login = await fx.login(app.client_id);
    await calls.revoke(login.access_token, app);
    await backdate(login.grant_id, 40, { grant: true });
    // Nothing about the tokens themselves is stale by expiry: only their revoked grant can find them.
    for (const table of ['access_tokens', 'refresh_tokens']) {
      await server.pool.query(`UPDATE ${table} SET revoked_at = now() - interval '40 days', expires_at = now() + interval '1 day' WHERE grant_id = $1`, [login.grant_id]);
    }
    expect(await cleanup()).toEqual({ deleted_access_tokens: 1, deleted_refresh_tokens: 1, deleted_grants: 1, deleted_authorization_requests: 0, deleted_authorization_codes: 0, deleted_device_codes: 0 });
    expect(await exists(login.grant_id)).toBe(false);
    expect(await db.counts(login.grant_id)).toEqual({ access: 0, refresh: 0, audit: 1 });
  });

  it('keeps a token revoked on its own while its grant lives on until its expiry plus retention', async () => {
    const login = await fx.login(app.client_id);
    expect((await calls.refresh(login.refresh_token, app)).status).toBe(200); // revokes the first access token
    expect(await db.access(login.access_token)).toMatchObject({ revoked: true });
    await server.pool.query(`UPDATE access_tokens SET revoked_at = now() - interval '40 days' WHERE token_hash = $1`, [hashToken(login.access_token)]);
    expect(await cleanup()).toEqual({ deleted_access_tokens: 0, deleted_refresh_tokens: 0, deleted_grants: 0, deleted_authorization_requests: 0, deleted_authorization_codes: 0, deleted_device_codes: 0 });
    expect(await db.access(login.access_token)).toMatchObject({ revoked: true });
    await server.pool.query(`UPDATE access_tokens SET expires_at = now() - interval '31 days' WHERE token_hash = $1`, [hashToken(login.access_token)]);
    expect(await cleanup()).toEqual({ deleted_access_tokens: 1, deleted_refresh_tokens: 0, deleted_grants: 0, deleted_authorization_requests: 0, deleted_authorization_codes: 0, deleted_device_codes: 0 });
    expect(await db.access(login.access_token)).toBeUndefined();
    expect(await db.live(login.grant_id)).toEqual({ access: 1, refresh: 1 });
  });

  it('works in batches of TOKEN_CLEANUP_BATCH_SIZE rows, each one statement, until nothing is left', async () => {
    const small = await startTestServer({ TOKEN_CLEANUP_BATCH_SIZE: '2' });
    try {
      const logins: IssuedGrant[] = [];
      for (let i = 0; i < 5; i++) logins.push(await fx.login(app.client_id));
      for (const login of logins) await backdate(login.grant_id, 40);
      // Five device codes that expired 40 days ago.
      await server.pool.query(
        `INSERT INTO device_codes (device_code_hash, user_code, client_id, interval_seconds, expires_at)
         SELECT sha256(convert_to('batch-device-' || i || '-' || $2, 'UTF8')), 'BATCH' || i || substr(md5($2), 1, 3), $1, 5, now() - interval '40 days' FROM generate_series(1, 5) i`,
        [app.client_id, String(Date.now())],
      );
      const spy = jest.spyOn(PostgresQueryRunner.prototype, 'query');
      let result;
      let calls: unknown[][];
      try {
        result = await small.app.get(TokenCleanupService).cleanup();
        calls = [...spy.mock.calls];
      } finally {
        spy.mockRestore();
      }
      const batches = calls.filter((c) => String(c[0]).includes('oauth_cleanup_batch'));
      expect(batches.map((c) => (c[1] as unknown[])[1])).toEqual([2, 2, 2, 2]); // three that delete, one that finds nothing
      const deviceBatches = calls.filter((c) => String(c[0]).includes('DELETE FROM device_codes'));
      expect(deviceBatches.map((c) => (c[1] as unknown[])[1])).toEqual([2, 2, 2]); // 2, 2, then 1: fewer than a batch ends it
      expect(result).toEqual({ deleted_access_tokens: 5, deleted_refresh_tokens: 5, deleted_grants: 5, deleted_authorization_requests: 0, deleted_authorization_codes: 0, deleted_device_codes: 5 });
      for (const login of logins) expect(await exists(login.grant_id)).toBe(false);
    } finally {
      await small.close();
    }
  });

  (testDatabaseKind() === 'postgres' ? it : it.skip)('skips a grant that another transaction holds, without waiting for it, and takes it on the next run', async () => {
    // Needs a second transaction open at the same time: the embedded database runs one at a time.
    const busy = await fx.login(app.client_id);
    const idle = await fx.login(app.client_id);
    await backdate(busy.grant_id, 40);
    await backdate(idle.grant_id, 40);
    const holder = await server.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT id FROM grants WHERE id = $1 FOR UPDATE', [busy.grant_id]);
      expect(await cleanup()).toEqual({ deleted_access_tokens: 1, deleted_refresh_tokens: 1, deleted_grants: 1, deleted_authorization_requests: 0, deleted_authorization_codes: 0, deleted_device_codes: 0 });
      expect(await exists(idle.grant_id)).toBe(false);
      expect(await db.counts(busy.grant_id)).toEqual({ access: 1, refresh: 1, audit: 0 });
      await holder.query('COMMIT');
    } finally {
      holder.release();
    }
    expect(await cleanup()).toEqual({ deleted_access_tokens: 1, deleted_refresh_tokens: 1, deleted_grants: 1, deleted_authorization_requests: 0, deleted_authorization_codes: 0, deleted_device_codes: 0 });
    expect(await exists(busy.grant_id)).toBe(false);
  });

  it('tokens:cleanup follows TOKEN_RETENTION_DAYS, and refuses unknown flags', async () => {
    const login = await fx.login(app.client_id);
    await calls.revoke(login.access_token, app);
    await backdate(login.grant_id, 20); // the earlier tests left grants 10 days old: they stay
    const r = await runAdmin(['tokens:cleanup'], { DATABASE_URL: testDatabaseUrl(), TOKEN_RETENTION_DAYS: '15' });
    expect(r.json).toEqual({ deleted_access_tokens: 1, deleted_refresh_tokens: 1, deleted_grants: 1, deleted_authorization_requests: 0, deleted_authorization_codes: 0, deleted_device_codes: 0, deleted_clients: 0 });
    expect(await exists(login.grant_id)).toBe(false);
    const bad = await runAdmin(['tokens:cleanup', '--days', '3']);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/Unknown option '--days'/);
  });

  it('runs inside the app every TOKEN_CLEANUP_INTERVAL_SECONDS', async () => {
    const login = await fx.login(app.client_id);
    await calls.revoke(login.access_token, app);
    await backdate(login.grant_id, 40);
    const scheduled = await startTestServer({ TOKEN_CLEANUP_INTERVAL_SECONDS: '1' });
    try {
      await waitFor(async () => !(await exists(login.grant_id)), 15000, 'the scheduled cleanup to delete the grant');
      expect(await db.counts(login.grant_id)).toEqual({ access: 0, refresh: 0, audit: 1 });
    } finally {
      await scheduled.close();
    }
  });

  describe('unused dynamically registered clients (REGISTRATION_UNUSED_CLIENT_DAYS)', () => {
    // Registered clients are backdated by at most 10 days and their tokens stay inside TOKEN_RETENTION_DAYS,
    // so the token cleanup of this file and of other specs never sees anything of theirs.
    const registerClient = async (daysAgo: number) => {
      const { clientId } = await server.app.get(ClientsService).register({
        tokenEndpointAuthMethod: 'none',
        grantTypes: ['authorization_code', 'refresh_token'],
        redirectUris: ['http://127.0.0.1/cb'],
        responseTypes: ['code'],
        applicationType: 'native',
        metadata: { client_uri: 'https://app.example.org/' },
      });
      await server.pool.query(`UPDATE clients SET registered_at = now() - make_interval(days => $2), created_at = now() - make_interval(days => $2) WHERE client_id = $1`, [clientId, daysAgo]);
      return clientId;
    };
    const clientExists = async (clientId: string) => (await server.pool.query('SELECT 1 FROM clients WHERE client_id = $1', [clientId])).rowCount === 1;
    const grantCount = async (clientId: string) => (await server.pool.query('SELECT count(*)::int AS n FROM grants WHERE client_id = $1', [clientId])).rows[0].n;

    it('tokens:cleanup deletes registered clients without a live grant for N days, with their dead grants and tokens, and keeps the audit trail', async () => {
      const unused = await registerClient(10);
      // A grant that ended 9 days ago: its tokens expired then (inside token retention, so only the client cleanup removes them).
      const lapsed = await registerClient(10);
      const lapsedLogin = await fx.login(lapsed);
      await backdate(lapsedLogin.grant_id, 9);
      // Revoked 9 days ago: nothing live since then.
      const revoked = await registerClient(10);
      const revokedLogin = await fx.login(revoked);
      await calls.revoke(revokedLogin.access_token, { client_id: revoked, token_endpoint_auth_method: 'none', grant_types: [] });
      await backdate(revokedLogin.grant_id, 9);

      const r = await runAdmin(['tokens:cleanup'], { DATABASE_URL: testDatabaseUrl(), REGISTRATION_UNUSED_CLIENT_DAYS: '7' });
      expect(r.code).toBe(0);
      expect(r.json).toEqual({ deleted_access_tokens: 0, deleted_refresh_tokens: 0, deleted_grants: 0, deleted_authorization_requests: 0, deleted_authorization_codes: 0, deleted_device_codes: 0, deleted_clients: 3 });
      for (const id of [unused, lapsed, revoked]) expect(await clientExists(id)).toBe(false);
      expect(await grantCount(lapsed)).toBe(0);
      expect(await db.counts(lapsedLogin.grant_id)).toEqual({ access: 0, refresh: 0, audit: 0 });
      expect(await db.counts(revokedLogin.grant_id)).toEqual({ access: 0, refresh: 0, audit: 1 });
    });

    it('never deletes a registered client with a live grant, one in use within N days, a recent one, or a client an operator created', async () => {
      // Registered long ago, logged in now: live.
      const live = await registerClient(10);
      const liveLogin = await fx.login(live);
      // Its access token expired long ago, its refresh token is still good: the grant is live.
      const refreshable = await registerClient(10);
      const refreshableLogin = await fx.login(refreshable);
      await server.pool.query(`UPDATE access_tokens SET expires_at = now() - interval '9 days' WHERE grant_id = $1`, [refreshableLogin.grant_id]);
      // Its grant ended 5 days ago: inside the window.
      const recentlyUsed = await registerClient(10);
      const recentLogin = await fx.login(recentlyUsed);
      await backdate(recentLogin.grant_id, 5);
      // Registered 5 days ago, never used yet.
      const recent = await registerClient(5);
      // Created by an operator 10 days ago, never used.
      const operator = (await fx.client('none')).client_id;
      await server.pool.query(`UPDATE clients SET created_at = now() - interval '10 days' WHERE client_id = $1`, [operator]);

      const small = await startTestServer({ REGISTRATION_UNUSED_CLIENT_DAYS: '7' });
      try {
        await small.app.get(RegisteredClientCleanupService).cleanup();
      } finally {
        await small.close();
      }
      for (const id of [live, refreshable, recentlyUsed, recent, operator]) expect(await clientExists(id)).toBe(true);
      expect(await fx.grantState(liveLogin.grant_id)).toMatchObject({ grantRevoked: false, liveAccess: 1, liveRefresh: 1 });
      // The kept client still works.
      expect((await calls.refresh(refreshableLogin.refresh_token, { client_id: refreshable, token_endpoint_auth_method: 'none', grant_types: [] })).status).toBe(200);
    });

    it('are deleted inside the app too, every TOKEN_CLEANUP_INTERVAL_SECONDS', async () => {
      const unused = await registerClient(10);
      const scheduled = await startTestServer({ TOKEN_CLEANUP_INTERVAL_SECONDS: '1', REGISTRATION_UNUSED_CLIENT_DAYS: '7' });
      try {
        await waitFor(async () => !(await clientExists(unused)), 15000, 'the scheduled cleanup to delete the unused registered client');
      } finally {
        await scheduled.close();
      }
    });

    (testDatabaseKind() === 'postgres' ? it : it.skip)('leaves a client that a grant is being created for (its row is locked) to the next run', async () => {
      // Needs a second transaction open at the same time: the embedded database runs one at a time.
      const busy = await registerClient(10);
      const holder = await server.pool.connect();
      const small = await startTestServer({ REGISTRATION_UNUSED_CLIENT_DAYS: '7' });
      try {
        await holder.query('BEGIN');
        await holder.query('SELECT client_id FROM clients WHERE client_id = $1 FOR KEY SHARE', [busy]);
        await small.app.get(RegisteredClientCleanupService).cleanup();
        expect((await holder.query('SELECT 1 FROM clients WHERE client_id = $1', [busy])).rowCount).toBe(1);
        await holder.query('COMMIT');
        await small.app.get(RegisteredClientCleanupService).cleanup();
        expect(await clientExists(busy)).toBe(false);
      } finally {
        holder.release();
        await small.close();
      }
    });
  });
});
