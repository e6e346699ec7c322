import request from 'supertest';
import { ClientsService, type CreatedClient } from '../src/clients/clients.service';
import { generateToken, hashToken } from '../src/grants/token-format';
import { Fixtures } from './support/fixtures';
import { startTestServer, TestServer } from './support/test-app';
import { OAuthCalls, TokenRows } from './support/token-fixtures';

describe('POST /oauth2/introspect (RFC 7662)', () => {
  let server: TestServer;
  let fx: Fixtures;
  let http: ReturnType<typeof request>;
  let calls: OAuthCalls;
  let db: TokenRows;
  let rs: CreatedClient; // a resource server: confidential, client_secret_basic
  let app: CreatedClient; // a public client

  beforeAll(async () => {
    server = await startTestServer();
    fx = new Fixtures(server.app, server.pool);
    http = request(server.app.getHttpServer());
    calls = new OAuthCalls(http);
    db = new TokenRows(server.pool);
    rs = await fx.client('client_secret_basic');
    app = await fx.client('none');
  });
  afterAll(() => server.close());

  const epochs = async (table: 'access_tokens' | 'refresh_tokens', token: string) =>
    (
      await server.pool.query(
        `SELECT floor(extract(epoch FROM created_at))::int AS iat, floor(extract(epoch FROM expires_at))::int AS exp FROM ${table} WHERE token_hash = $1`,
        [hashToken(token)],
      )
    ).rows[0] as { iat: number; exp: number };

  describe('who may ask', () => {
    it('answers 401 invalid_client to a request that names no client, and records no use', async () => {
      const login = await fx.login(app.client_id);
      const res = await calls.post('/oauth2/introspect', { token: login.access_token });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'invalid_client', error_description: expect.any(String) });
      expect(await db.access(login.access_token)).toMatchObject({ first_used: false });
    });

    it('answers 401 invalid_client to a public client, even about its own token, and records no use', async () => {
      const login = await fx.login(app.client_id);
      const res = await calls.introspect(login.access_token, app);
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_client');
      expect(await db.access(login.access_token)).toMatchObject({ first_used: false });
    });

    it('answers 401 invalid_client with a Basic challenge to a wrong secret, and records no use', async () => {
      const login = await fx.login(app.client_id);
      const res = await calls.introspect(login.access_token, { ...rs, client_secret: 'wrong' });
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Basic realm=/);
      expect(await db.access(login.access_token)).toMatchObject({ first_used: false });
    });

    it('accepts client_secret_post as well', async () => {
      const post = await fx.client('client_secret_post');
      const login = await fx.login(app.client_id);
      const res = await calls.introspect(login.access_token, post);
      expect(res.status).toBe(200);
      expect(res.body.active).toBe(true);
    });
  });

  describe('active tokens', () => {
    it("describes an active access token, for a resource server that is not the token's client", async () => {
      const login = await fx.login(app.client_id, '@alice:example.org');
      const res = await calls.introspect(login.access_token, rs);
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      const { iat, exp } = await epochs('access_tokens', login.access_token);
      expect(res.body).toEqual({
        active: true,
        client_id: app.client_id,
        scope: 'openid',
        sub: '@alice:example.org',
        exp,
        iat,
        token_type: 'Bearer',
        grant_id: login.grant_id,
      });
      expect(exp - iat).toBe(3600);
    });

    it("records an access token's first use, once", async () => {
      const login = await fx.login(app.client_id);
      expect(await db.access(login.access_token)).toMatchObject({ first_used: false });
      await calls.introspect(login.access_token, rs);
      const first = await server.pool.query('SELECT first_used_at FROM access_tokens WHERE token_hash = $1', [hashToken(login.access_token)]);
      expect(first.rows[0].first_used_at).toBeInstanceOf(Date);
      expect((await calls.introspect(login.access_token, rs)).body.active).toBe(true);
      const second = await server.pool.query('SELECT first_used_at FROM access_tokens WHERE token_hash = $1', [hashToken(login.access_token)]);
      expect(second.rows[0].first_used_at).toEqual(first.rows[0].first_used_at);
    });

    it('describes an active refresh token as token_type refresh_token, and records no access token use', async () => {
      const login = await fx.login(app.client_id, '@bob:example.org');
      const res = await calls.introspect(login.refresh_token, rs);
      const { iat, exp } = await epochs('refresh_tokens', login.refresh_token);
      expect(res.body).toEqual({
        active: true,
        client_id: app.client_id,
        scope: 'openid',
        sub: '@bob:example.org',
        exp,
        iat,
        token_type: 'refresh_token',
        grant_id: login.grant_id,
      });
      expect(await db.access(login.access_token)).toMatchObject({ first_used: false });
    });

    it('leaves sub out for a client_credentials token, which acts for the client itself', async () => {
      const machine = await fx.client('client_secret_basic');
      const issued = await calls.clientCredentials(machine, { scope: 'jobs' });
      const res = await calls.introspect(issued.body.access_token, rs);
      expect(res.body).toEqual({
        active: true,
        client_id: machine.client_id,
        scope: 'jobs',
        exp: expect.any(Number),
        iat: expect.any(Number),
        token_type: 'Bearer',
        grant_id: (await db.access(issued.body.access_token))!.grant_id,
      });
    });

    it('reports the narrower scope of an access token issued by a narrowing refresh', async () => {
      const login = await fx.login(app.client_id);
      await server.pool.query(`UPDATE grants SET scope = 'openid profile' WHERE id = $1`, [login.grant_id]);
      const narrowed = await calls.refresh(login.refresh_token, app, { scope: 'profile' });
      expect((await calls.introspect(narrowed.body.access_token, rs)).body.scope).toBe('profile');
      expect((await calls.introspect(narrowed.body.refresh_token, rs)).body.scope).toBe('openid profile');
    });

    it('ignores token_type_hint: the token itself says what it is', async () => {
      const login = await fx.login(app.client_id);
      const res = await calls.post('/oauth2/introspect', { token: login.access_token, token_type_hint: 'refresh_token' }, rs);
      expect(res.body).toMatchObject({ active: true, token_type: 'Bearer' });
    });
  });

  describe('inactive tokens: exactly {"active": false}', () => {
    const expectInactive = (res: request.Response) => {
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.text).toBe('{"active":false}');
    };

    it('for both tokens of a revoked grant, and records no use', async () => {
      const login = await fx.login(app.client_id);
      await calls.revoke(login.refresh_token, app);
      expectInactive(await calls.introspect(login.access_token, rs));
      expectInactive(await calls.introspect(login.refresh_token, rs));
      expect(await db.access(login.access_token)).toMatchObject({ first_used: false, revoked: true });
    });

    it("for the tokens of a disabled client, which stay stored unrevoked, and records no use", async () => {
      const owner = await fx.client('none');
      const login = await fx.login(owner.client_id);
      await server.app.get(ClientsService).disable(owner.client_id);
      expectInactive(await calls.introspect(login.access_token, rs));
      expectInactive(await calls.introspect(login.refresh_token, rs));
      expect(await db.access(login.access_token)).toMatchObject({ revoked: false, first_used: false });
      expect(await db.refresh(login.refresh_token)).toMatchObject({ revoked: false, consumed: false });
      expect(await db.grant(login.grant_id)).toMatchObject({ revoked: false });
    });

    it('for the access token of a client disabled after the token was seen active (caches included)', async () => {
      const owner = await fx.client('none');
      const login = await fx.login(owner.client_id);
      expect((await calls.introspect(login.access_token, rs)).body).toMatchObject({ active: true });
      await server.app.get(ClientsService).disable(owner.client_id);
      // Instances evict their caches on the database's notification: wait for it, within a bound.
      const deadline = Date.now() + 5000;
      let res = await calls.introspect(login.access_token, rs);
      while (res.text !== '{"active":false}' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        res = await calls.introspect(login.access_token, rs);
      }
      expectInactive(res);
      expect(await db.access(login.access_token)).toMatchObject({ revoked: false });
    });

    it('for a token whose own row is live when its grant is revoked', async () => {
      const login = await fx.login(app.client_id);
      await server.pool.query('UPDATE grants SET revoked_at = now() WHERE id = $1', [login.grant_id]);
      expect(await db.access(login.access_token)).toMatchObject({ revoked: false });
      expectInactive(await calls.introspect(login.access_token, rs));
      expectInactive(await calls.introspect(login.refresh_token, rs));
    });

    it('for an expired access token and an expired refresh token, and records no use', async () => {
      const login = await fx.login(app.client_id);
      await fx.expireAccessToken(login.access_token);
      await server.pool.query(`UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = $1`, [hashToken(login.refresh_token)]);
      expectInactive(await calls.introspect(login.access_token, rs));
      expectInactive(await calls.introspect(login.refresh_token, rs));
      expect(await db.access(login.access_token)).toMatchObject({ first_used: false });
    });

    it('for the consumed refresh token and the revoked access token of a rotation', async () => {
      const login = await fx.login(app.client_id);
      const next = await calls.refresh(login.refresh_token, app);
      expectInactive(await calls.introspect(login.refresh_token, rs));
      expectInactive(await calls.introspect(login.access_token, rs));
      expect((await calls.introspect(next.body.access_token, rs)).body.active).toBe(true);
    });

    it.each([
      ['an unknown well-formed access token', () => generateToken('oat_')],
      ['an unknown well-formed refresh token', () => generateToken('ort_')],
      ['a malformed token', () => 'Bearer something'],
      ['a token with a broken checksum', () => generateToken('oat_').slice(0, -1) + '0'],
    ])('for %s', async (_name, make) => {
      expectInactive(await calls.introspect(make(), rs));
    });
  });

  describe('request rules', () => {
    it('answers 400 invalid_request when token is missing', async () => {
      const res = await calls.post('/oauth2/introspect', { token_type_hint: 'access_token' }, rs);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_request', error_description: expect.stringMatching(/token is required/) });
    });

    it('answers 400 invalid_request when token is in the URL query, and records no use', async () => {
      const login = await fx.login(app.client_id);
      const res = await calls.post(`/oauth2/introspect?token=${login.access_token}`, { token: login.access_token }, rs);
      expect(res.status).toBe(400);
      expect(res.text).not.toContain(login.access_token);
      expect(await db.access(login.access_token)).toMatchObject({ first_used: false });
    });

    it('answers GET with 405 and Allow: POST, OPTIONS', async () => {
      const res = await http.get('/oauth2/introspect');
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('POST, OPTIONS');
      expect(res.body).toEqual({ error: 'invalid_request', error_description: 'Use POST to introspect a token.' });
    });
  });
});
