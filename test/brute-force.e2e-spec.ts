import { request as httpRequest, Agent } from 'node:http';
import { AuthFailureLimiter, limiterKey } from '../src/clients/auth-failure-limiter';
import { MemoryAuthFailureStore } from '../src/clients/memory-auth-failure-store';
import { basic, Fixtures } from './support/fixtures';
import { startTestServer, TestServer, uniqueId } from './support/test-app';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const agent = new Agent({ keepAlive: false, maxSockets: Infinity });

/** A revoke request from a chosen loopback address (all of 127.0.0.0/8 reaches the server). */
function revokeFrom(server: TestServer, from: string, body: string, authorization?: string): Promise<Answer> {
  const url = new URL(`${server.url}/oauth2/revoke`);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        localAddress: from,
        agent,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...(authorization ? { Authorization: authorization } : {}) },
      },
      (res) => {
        let data = '';
        res.on('data', (d) => (data += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: data }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const count = (answers: Answer[], status: number) => answers.filter((a) => a.status === status).length;

describe('brute-force protection of client authentication', () => {
  let server: TestServer;
  let fx: Fixtures;

  beforeAll(async () => {
    server = await startTestServer({
      AUTH_FAILURES_PER_CLIENT_ADDRESS: '3',
      AUTH_FAILURES_PER_ADDRESS: '5',
      AUTH_FAILURES_PER_CLIENT: '6',
      AUTH_FAILURE_WINDOW_SECONDS: '300',
    });
    fx = new Fixtures(server.app, server.pool);
  });
  afterAll(() => server.close());

  it('holds back a (client id, address) after 3 failures: 429 slow_down with Retry-After there, even with the right secret', async () => {
    const victim = await fx.client('client_secret_basic');
    const login = await fx.login(victim.client_id);
    for (let i = 0; i < 3; i++) {
      expect((await revokeFrom(server, '127.0.0.10', 'token=x', basic(victim.client_id, 'guess' + i))).status).toBe(401);
    }
    const locked = await revokeFrom(server, '127.0.0.10', `token=${login.access_token}`, basic(victim.client_id, victim.client_secret!));
    expect(locked.status).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    expect(JSON.parse(locked.body)).toEqual({ error: 'slow_down', error_description: expect.stringMatching(/retry in \d+ seconds/) });
    expect(locked.headers['cache-control']).toBe('no-store');
    expect(await fx.grantState(login.grant_id)).toMatchObject({ grantRevoked: false, liveAccess: 1 });
  });

  it('cannot be turned against the owner: failures from strangers past the client id ceiling leave its correct secret working', async () => {
    const owner = await fx.client('client_secret_basic');
    // 8 addresses, one wrong secret each: past the ceiling of 6 failures for this client id.
    for (let i = 0; i < 8; i++) expect((await revokeFrom(server, `127.0.1.${i}`, 'token=x', basic(owner.client_id, 'nope'))).status).toBe(401);
    // An address that failed for it now waits (a slower backoff for the attack) …
    expect((await revokeFrom(server, '127.0.1.0', 'token=x', basic(owner.client_id, owner.client_secret!))).status).toBe(429);
    // … while the owner, from an address with no failures, is never refused.
    const login = await fx.login(owner.client_id);
    const res = await revokeFrom(server, '127.0.1.100', `token=${login.access_token}`, basic(owner.client_id, owner.client_secret!));
    expect(res.status).toBe(200);
    expect((await fx.grantState(login.grant_id)).grantRevoked).toBe(true);
  });

  it('holds back an address after 5 failures across client ids, and leaves other addresses unaffected', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await revokeFrom(server, '127.0.0.50', 'token=x', basic(uniqueId('ghost'), 'x'))).status).toBe(401);
    }
    const good = await fx.client('client_secret_basic');
    const login = await fx.login(good.client_id);
    const fromAttacker = await revokeFrom(server, '127.0.0.50', `token=${login.access_token}`, basic(good.client_id, good.client_secret!));
    expect(fromAttacker.status).toBe(429);
    expect(await fx.grantState(login.grant_id)).toMatchObject({ grantRevoked: false });
    const fromElsewhere = await revokeFrom(server, '127.0.0.51', `token=${login.access_token}`, basic(good.client_id, good.client_secret!));
    expect(fromElsewhere.status).toBe(200);
    expect((await fx.grantState(login.grant_id)).grantRevoked).toBe(true);
  });

  it('counts concurrent guesses: of 100 wrong secrets sent at once from one address, only 3 are checked', async () => {
    const victim = await fx.client('client_secret_basic');
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => revokeFrom(server, '127.0.2.1', 'token=x', basic(victim.client_id, `guess${i}`))));
    expect(count(answers, 401)).toBe(3);
    expect(count(answers, 429)).toBe(97);
  });

  it('does not hold back a client authenticating correctly, one request after another or many at once', async () => {
    const c = await fx.client('client_secret_post');
    const body = `token=x&client_id=${c.client_id}&client_secret=${encodeURIComponent(c.client_secret!)}`;
    for (let i = 0; i < 8; i++) expect((await revokeFrom(server, '127.0.0.70', body)).status).toBe(200);
    const together = await Promise.all(Array.from({ length: 30 }, () => revokeFrom(server, '127.0.0.70', body)));
    expect(count(together, 200)).toBe(30);
  });

  it('keeps no state for client ids that no client can have (over 255 bytes, or outside visible ASCII)', async () => {
    const store = server.app.get(AuthFailureLimiter).store as MemoryAuthFailureStore;
    const before = store.size;
    const ids = [...Array.from({ length: 40 }, (_, i) => `${i}${'x'.repeat(4000)}`), 'with space', 'tab\there', 'é'];
    for (const [i, id] of ids.entries()) {
      expect((await revokeFrom(server, `127.0.3.${i}`, `token=x&client_id=${encodeURIComponent(id)}&client_secret=x`)).status).toBe(401);
    }
    expect(store.size).toBe(before);
  });

  it('cannot be turned against a public client: wrong secrets sent with its id never block its own logout', async () => {
    const app = await fx.client('none');
    for (let i = 0; i < 6; i++) {
      expect([401, 429]).toContain((await revokeFrom(server, '127.0.0.90', `token=x&client_id=${app.client_id}&client_secret=guess${i}`)).status);
    }
    const login = await fx.login(app.client_id);
    const res = await revokeFrom(server, '127.0.0.91', `token=${login.access_token}&client_id=${app.client_id}`);
    expect(res.status).toBe(200);
    expect((await fx.grantState(login.grant_id)).grantRevoked).toBe(true);
  });
});

describe.each([
  ['PostgreSQL', { AUTH_FAILURE_STORE: 'postgres' }],
  ['Redis', { AUTH_FAILURE_STORE: 'redis', REDIS_URL: 'redis://127.0.0.1:6379' }],
])('brute-force counters shared by two instances through %s', (_name, storeEnv) => {
  let one: TestServer;
  let two: TestServer;
  let fx: Fixtures;

  beforeAll(async () => {
    // No per-address limit: other runs on the same Redis also send from 127.0.0.1.
    const env = { ...storeEnv, AUTH_FAILURES_PER_CLIENT_ADDRESS: '4', AUTH_FAILURES_PER_ADDRESS: '0', AUTH_FAILURE_WINDOW_SECONDS: '300' };
    one = await startTestServer(env);
    two = await startTestServer(env);
    fx = new Fixtures(one.app, one.pool);
  });
  afterAll(async () => {
    await one?.close();
    await two?.close();
  });

  it('counts failures spread over both instances once: the fifth guess is refused by either', async () => {
    const c = await fx.client('client_secret_basic');
    for (let i = 0; i < 4; i++) {
      const via = i % 2 === 0 ? one : two;
      expect((await revokeFrom(via, '127.0.4.1', 'token=x', basic(c.client_id, `guess${i}`))).status).toBe(401);
    }
    expect((await revokeFrom(one, '127.0.4.1', 'token=x', basic(c.client_id, c.client_secret!))).status).toBe(429);
    expect((await revokeFrom(two, '127.0.4.1', 'token=x', basic(c.client_id, c.client_secret!))).status).toBe(429);
    // Another address is not affected, on either instance.
    expect((await revokeFrom(two, '127.0.4.2', 'token=x', basic(c.client_id, c.client_secret!))).status).toBe(200);
    if (storeEnv.AUTH_FAILURE_STORE === 'postgres') {
      const { rows } = await one.pool.query('SELECT failures, pending FROM auth_failure_windows WHERE key = $1', [limiterKey('p', c.client_id, '127.0.4.1')]);
      expect(rows).toEqual([{ failures: 4, pending: 0 }]);
    }
  });

  it('counts concurrent guesses sent to both instances at once against one limit', async () => {
    const c = await fx.client('client_secret_basic');
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => revokeFrom(i % 2 === 0 ? one : two, '127.0.4.3', 'token=x', basic(c.client_id, `guess${i}`))),
    );
    expect(count(answers, 401)).toBe(4);
    expect(count(answers, 429)).toBe(36);
  });
});

describe('an unreachable Redis store', () => {
  it('stops startup with one message naming REDIS_URL, without its password', async () => {
    const started = startTestServer({ AUTH_FAILURE_STORE: 'redis', REDIS_URL: 'redis://:Sekrit123@127.0.0.1:9' });
    const err: Error = await started.then(
      async (s) => {
        await s.close();
        throw new Error('started');
      },
      (e: Error) => e,
    );
    expect(err.message).toMatch(/^Cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:9 .*REDIS_URL/);
    expect(err.message).not.toContain('Sekrit123');
  });
});
