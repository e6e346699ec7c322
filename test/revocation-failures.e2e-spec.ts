import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { Fixtures } from './support/fixtures';
import { TcpProxy } from './support/tcp-proxy';
import { startTestServer, TestServer } from './support/test-app';
import { testDatabaseUrl } from './support/test-database';

describe('POST /oauth2/revoke when the database fails', () => {
  let proxy: TcpProxy;
  let server: TestServer;
  let fx: Fixtures;
  let http: ReturnType<typeof request>;
  let clientId: string;

  beforeAll(async () => {
    proxy = await TcpProxy.start(testDatabaseUrl());
    server = await startTestServer({ DATABASE_URL: proxy.url(testDatabaseUrl()), DATABASE_CONNECT_TIMEOUT_MS: '1000' });
    fx = new Fixtures(server.app, server.pool);
    http = request(server.app.getHttpServer());
    clientId = (await fx.client('none')).client_id;
  });
  afterAll(async () => {
    await server.close();
    await proxy.stop();
  });

  it('answers 503 temporarily_unavailable with Retry-After while the database is unreachable, never 200, and recovers without a restart', async () => {
    const before = await fx.login(clientId);
    const during = await fx.login(clientId);
    expect((await http.post('/oauth2/revoke').type('form').send(`token=${before.access_token}`)).status).toBe(200);

    proxy.cut();
    const failed = await http.post('/oauth2/revoke').type('form').send(`token=${during.access_token}`);
    expect(failed.status).toBe(503);
    expect(failed.headers['retry-after']).toBe('5');
    expect(failed.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
    expect(failed.text).not.toMatch(/ECONNREFUSED|Connection terminated|at .*\.js/);
    // The token the server could not revoke is still live: a 503 never hides a lost revocation.
    expect(await fx.grantState(during.grant_id)).toMatchObject({ grantRevoked: false, liveAccess: 1 });

    proxy.restore();
    const after = await http.post('/oauth2/revoke').type('form').send(`token=${during.access_token}`);
    expect(after.status).toBe(200);
    expect(await fx.grantState(during.grant_id)).toMatchObject({ grantRevoked: true, liveAccess: 0, liveRefresh: 0 });
    expect(await fx.grantState(before.grant_id)).toMatchObject({ grantRevoked: true, liveAccess: 0, liveRefresh: 0 });
  });

  it('answers 503 for a client-authenticated request too (the client lookup fails first)', async () => {
    const c = await fx.client('client_secret_post');
    proxy.cut();
    try {
      const res = await http.post('/oauth2/revoke').type('form').send(`token=x&client_id=${c.client_id}&client_secret=${encodeURIComponent(c.client_secret!)}`);
      expect(res.status).toBe(503);
      expect(res.body.error).toBe('temporarily_unavailable');
    } finally {
      proxy.restore();
    }
  });

  it('every token answered 200 during a cut-and-restore under load is revoked afterwards', async () => {
    const logins = await Promise.all(Array.from({ length: 40 }, () => fx.login(clientId)));
    const answers = new Map<string, number>();
    let answered = 0;
    // The requests go out 10 ms apart; the link is cut once the first answers are back (the rest are in
    // flight or still to come) and restored a while later.
    const load = logins.map(async (login, i) => {
      await sleep(i * 10);
      const res = await http.post('/oauth2/revoke').type('form').send(`token=${login.refresh_token}`);
      answers.set(login.grant_id, res.status);
      answered++;
      if (answered === 5) proxy.cut();
      if (answered === 20) proxy.restore();
    });
    await Promise.all(load);
    proxy.restore();
    const statuses = [...answers.values()];
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    expect(statuses).toContain(200);
    expect(statuses).toContain(503);
    for (const login of logins) {
      const state = await fx.grantState(login.grant_id);
      if (answers.get(login.grant_id) === 200) expect(state).toMatchObject({ grantRevoked: true, liveAccess: 0, liveRefresh: 0 });
    }
  });
});

describe('POST /oauth2/revoke with a statement timeout', () => {
  let server: TestServer;
  let fx: Fixtures;
  beforeAll(async () => {
    server = await startTestServer({ DATABASE_STATEMENT_TIMEOUT_MS: '300' });
    fx = new Fixtures(server.app, server.pool);
  });
  afterAll(() => server.close());

  it('turns a revocation stuck behind a locked grant into 503, not a hung request, and serves the retry', async () => {
    const clientId = (await fx.client('none')).client_id;
    const login = await fx.login(clientId);
    const locker = await server.pool.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT id FROM grants WHERE id = $1 FOR UPDATE', [login.grant_id]);
      const res = await request(server.app.getHttpServer()).post('/oauth2/revoke').type('form').send(`token=${login.access_token}`);
      expect(res.status).toBe(503);
      expect(res.body.error).toBe('temporarily_unavailable');
      expect(res.headers['retry-after']).toBe('5');
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }
    expect((await request(server.app.getHttpServer()).post('/oauth2/revoke').type('form').send(`token=${login.access_token}`)).status).toBe(200);
    expect(await fx.grantState(login.grant_id)).toMatchObject({ grantRevoked: true, liveAccess: 0, liveRefresh: 0 });
  });
});
