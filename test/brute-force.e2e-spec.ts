import { request as httpRequest } from 'node:http';
import { basic, Fixtures } from './support/fixtures';
import { startTestServer, TestServer, uniqueId } from './support/test-app';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

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

describe('brute-force protection of client authentication', () => {
  let server: TestServer;
  let fx: Fixtures;

  beforeAll(async () => {
    server = await startTestServer({ AUTH_FAILURES_PER_CLIENT: '3', AUTH_FAILURES_PER_ADDRESS: '5', AUTH_FAILURE_WINDOW_SECONDS: '300' });
    fx = new Fixtures(server.app, server.pool);
  });
  afterAll(() => server.close());

  it('locks a client id after 3 failed authentications: 429 slow_down with Retry-After, even with the right secret', async () => {
    const victim = await fx.client('client_secret_basic');
    const login = await fx.login(victim.client_id);
    for (let i = 0; i < 3; i++) {
      // Spread over addresses so only the per-client limit is reached.
      expect((await revokeFrom(server, `127.0.0.${10 + i}`, 'token=x', basic(victim.client_id, 'guess' + i))).status).toBe(401);
    }
    const locked = await revokeFrom(server, '127.0.0.20', `token=${login.access_token}`, basic(victim.client_id, victim.client_secret!));
    expect(locked.status).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    expect(JSON.parse(locked.body)).toEqual({ error: 'slow_down', error_description: expect.stringMatching(/retry in \d+ seconds/) });
    expect(locked.headers['cache-control']).toBe('no-store');
    expect(await fx.grantState(login.grant_id)).toMatchObject({ grantRevoked: false, liveAccess: 1 });
  });

  it('leaves other clients unaffected while one client id is locked', async () => {
    const victim = await fx.client('client_secret_basic');
    for (let i = 0; i < 3; i++) await revokeFrom(server, `127.0.0.${30 + i}`, 'token=x', basic(victim.client_id, 'nope'));
    const other = await fx.client('client_secret_basic');
    const login = await fx.login(other.client_id);
    const res = await revokeFrom(server, '127.0.0.30', `token=${login.access_token}`, basic(other.client_id, other.client_secret!));
    expect(res.status).toBe(200);
    expect((await fx.grantState(login.grant_id)).grantRevoked).toBe(true);
  });

  it('locks a remote address after 5 failures across client ids, and leaves other addresses unaffected', async () => {
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

  it('does not count successful authentications', async () => {
    const c = await fx.client('client_secret_post');
    for (let i = 0; i < 8; i++) {
      const res = await revokeFrom(server, '127.0.0.70', `token=x&client_id=${c.client_id}&client_secret=${encodeURIComponent(c.client_secret!)}`);
      expect(res.status).toBe(200);
    }
  });

  it("cannot be turned against a public client: wrong secrets sent with its id never block its own logout", async () => {
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
