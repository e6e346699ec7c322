import request from 'supertest';
import { ClientsService, CreatedClient } from '../src/clients/clients.service';
import { Fixtures } from './support/fixtures';
import { startTestServer, TestServer, uniqueId } from './support/test-app';
import { form, OAuthCalls, TokenRows } from './support/token-fixtures';

describe('POST /oauth2/token: request rules and grant_type=client_credentials', () => {
  let server: TestServer;
  let fx: Fixtures;
  let http: ReturnType<typeof request>;
  let calls: OAuthCalls;
  let db: TokenRows;
  let machine: CreatedClient; // confidential, allowed client_credentials (the default)
  let app: CreatedClient; // public

  beforeAll(async () => {
    server = await startTestServer();
    fx = new Fixtures(server.app, server.pool);
    http = request(server.app.getHttpServer());
    calls = new OAuthCalls(http);
    db = new TokenRows(server.pool);
    machine = await fx.client('client_secret_post');
    app = await fx.client('none');
  });
  afterAll(() => server.close());

  const grantsOf = async (clientId: string) =>
    (await server.pool.query('SELECT id, subject, scope, revoked_at FROM grants WHERE client_id = $1 ORDER BY created_at', [clientId])).rows;

  describe('client_credentials', () => {
    it('creates a new grant with one access token and no refresh token', async () => {
      const res = await calls.clientCredentials(machine, { scope: 'metrics:read metrics:write' });
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers.pragma).toBe('no-cache');
      expect(res.body).toEqual({ access_token: expect.stringMatching(/^oat_/), token_type: 'Bearer', expires_in: 3600, scope: 'metrics:read metrics:write' });
      const access = await db.access(res.body.access_token);
      expect(await db.counts(access!.grant_id)).toEqual({ access: 1, refresh: 0, audit: 0 });
      const { rows } = await server.pool.query('SELECT client_id, subject, scope, revoked_at FROM grants WHERE id = $1', [access!.grant_id]);
      expect(rows[0]).toEqual({ client_id: machine.client_id, subject: null, scope: 'metrics:read metrics:write', revoked_at: null });
    });

    it('makes a separate grant per request, with an empty scope when none is asked for', async () => {
      const c = await fx.client('client_secret_basic');
      const a = await calls.clientCredentials(c);
      const b = await calls.clientCredentials(c);
      expect(a.body.scope).toBeUndefined();
      const grants = await grantsOf(c.client_id);
      expect(grants).toHaveLength(2);
      expect(grants.map((g) => g.scope)).toEqual(['', '']);
      expect((await db.access(a.body.access_token))!.grant_id).not.toBe((await db.access(b.body.access_token))!.grant_id);
    });

    it('answers 400 unauthorized_client to a confidential client not allowed client_credentials, and creates nothing', async () => {
      const c = await server.app.get(ClientsService).create({ clientId: uniqueId('rt-only'), authMethod: 'client_secret_basic', grantTypes: ['refresh_token'] });
      const res = await calls.clientCredentials(c);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'unauthorized_client', error_description: expect.stringMatching(/client_credentials/) });
      expect(await grantsOf(c.client_id)).toEqual([]);
    });

    it('answers 400 unauthorized_client to a public client, and creates nothing', async () => {
      const res = await calls.clientCredentials(app);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('unauthorized_client');
      expect(await grantsOf(app.client_id)).toEqual([]);
    });

    it('answers 401 invalid_client to a wrong secret, and creates nothing', async () => {
      const c = await fx.client('client_secret_basic');
      const res = await calls.clientCredentials({ ...c, client_secret: 'not-the-secret' });
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Basic realm=/);
      expect(res.body.error).toBe('invalid_client');
      expect(await grantsOf(c.client_id)).toEqual([]);
    });

    it('answers 400 invalid_scope to a malformed scope, and creates nothing', async () => {
      const c = await fx.client('client_secret_basic');
      const res = await calls.clientCredentials(c, { scope: 'a "quoted" scope' });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_scope');
      expect(await grantsOf(c.client_id)).toEqual([]);
    });

    it('refuses a disabled client, and creates nothing', async () => {
      const c = await fx.client('client_secret_basic');
      await server.app.get(ClientsService).disable(c.client_id);
      const res = await calls.clientCredentials(c);
      expect(res.status).toBe(401);
      expect(await grantsOf(c.client_id)).toEqual([]);
    });
  });

  describe('grant types', () => {
    it.each(['password', 'urn:ietf:params:oauth:grant-type:jwt-bearer', 'implicit'])(
      'answers 400 unsupported_grant_type for %s, without echoing it, and creates nothing',
      async (grantType) => {
        const c = await fx.client('client_secret_basic');
        const res = await calls.post('/oauth2/token', { grant_type: grantType, code: 'x', username: 'u', password: 'p' }, c);
        expect(res.status).toBe(400);
        expect(res.body).toEqual({ error: 'unsupported_grant_type', error_description: expect.any(String) });
        expect(res.body.error_description).not.toContain(grantType);
        expect(await grantsOf(c.client_id)).toEqual([]);
      },
    );

    it('answers 400 unauthorized_client for the device grant (served, RFC 8628) to a client not registered for it', async () => {
      const c = await fx.client('client_secret_basic');
      const res = await calls.post('/oauth2/token', { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: 'x' }, c);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('unauthorized_client');
      expect(await grantsOf(c.client_id)).toEqual([]);
    });

    it('answers 400 unauthorized_client for authorization_code to a client not registered for it, and creates nothing', async () => {
      const c = await fx.client('client_secret_basic');
      const res = await calls.post('/oauth2/token', { grant_type: 'authorization_code', code: 'x' }, c);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'unauthorized_client', error_description: 'This client is not allowed the authorization_code grant type.' });
      expect(await grantsOf(c.client_id)).toEqual([]);
    });

    it('answers 400 invalid_request when grant_type is missing', async () => {
      const res = await calls.post('/oauth2/token', { scope: 'x' }, machine);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_request', error_description: expect.stringMatching(/grant_type is required/) });
    });

    it.each([['a NUL byte', 'web\u0000'], ['non-ASCII characters', 'ᥘ𐋬'], ['a space', 'a b']])(
      'answers 401 invalid_client, not a server error, to a client_id with %s',
      async (_name, clientId) => {
        const res = await calls.post('/oauth2/token', { grant_type: 'client_credentials', client_id: clientId, client_secret: 'x' });
        expect(res.status).toBe(401);
        expect(res.body.error).toBe('invalid_client');
      },
    );

    it('answers 401 invalid_client to a request that names no client, and creates nothing', async () => {
      // A unique scope marks anything this request could have created.
      const marker = uniqueId('anonymous-probe');
      const res = await calls.post('/oauth2/token', { grant_type: 'client_credentials', scope: marker });
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_client');
      const { rows } = await server.pool.query('SELECT count(*)::int AS n FROM grants WHERE scope = $1', [marker]);
      expect(rows[0].n).toBe(0);
    });
  });

  describe('request rules (shared with the other OAuth endpoints)', () => {
    const expectOAuthError = (res: request.Response, status: number, error: string) => {
      expect(res.status).toBe(status);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({ error, error_description: expect.any(String) });
    };

    it('answers 400 invalid_request to a JSON body and consumes nothing', async () => {
      const login = await fx.login(app.client_id);
      const res = await http.post('/oauth2/token').send({ grant_type: 'refresh_token', refresh_token: login.refresh_token, client_id: app.client_id });
      expectOAuthError(res, 400, 'invalid_request');
      expect(await db.refresh(login.refresh_token)).toMatchObject({ consumed: false });
    });

    it('answers 400 invalid_request when a parameter is sent twice, and consumes neither token', async () => {
      const a = await fx.login(app.client_id);
      const b = await fx.login(app.client_id);
      const body = `grant_type=refresh_token&client_id=${app.client_id}&refresh_token=${a.refresh_token}&refresh_token=${b.refresh_token}`;
      expectOAuthError(await http.post('/oauth2/token').type('form').send(body), 400, 'invalid_request');
      expect(await db.refresh(a.refresh_token)).toMatchObject({ consumed: false });
      expect(await db.refresh(b.refresh_token)).toMatchObject({ consumed: false });
    });

    it.each(['refresh_token', 'client_id', 'client_secret'])('answers 400 invalid_request when %s is in the URL query, and consumes nothing', async (name) => {
      const login = await fx.login(app.client_id);
      const res = await http
        .post(`/oauth2/token?${name}=${encodeURIComponent(name === 'refresh_token' ? login.refresh_token : 'x')}`)
        .type('form')
        .send(form({ grant_type: 'refresh_token', refresh_token: login.refresh_token, client_id: app.client_id }));
      expectOAuthError(res, 400, 'invalid_request');
      expect(res.text).not.toContain(login.refresh_token);
      expect(await db.refresh(login.refresh_token)).toMatchObject({ consumed: false });
    });

    it.each(['get', 'put', 'delete', 'patch'] as const)('answers %s with 405 and Allow: POST, OPTIONS', async (method) => {
      const res = await http[method]('/oauth2/token');
      expectOAuthError(res, 405, 'invalid_request');
      expect(res.headers.allow).toBe('POST, OPTIONS');
      expect(res.body.error_description).toBe('Use POST to request tokens.');
    });

    it('answers a CORS preflight with 204 and the allowed methods and headers', async () => {
      const res = await http.options('/oauth2/token').set('Origin', 'https://app.example.com').set('Access-Control-Request-Method', 'POST');
      expect(res.status).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['access-control-allow-methods']).toBe('POST, OPTIONS');
      expect(res.headers['access-control-allow-headers']).toBe('Authorization, Content-Type');
    });
  });
});

describe('POST /oauth2/token on another path', () => {
  it('serves the token endpoint where TOKEN_PATH says, and nothing at the default path', async () => {
    const server = await startTestServer({ TOKEN_PATH: '/auth/v1/token/' });
    try {
      const c = await new Fixtures(server.app, server.pool).client('client_secret_post');
      const http = request(server.app.getHttpServer());
      const res = await http.post('/auth/v1/token').type('form').send(form({ grant_type: 'client_credentials', client_id: c.client_id, client_secret: c.client_secret }));
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect((await http.post('/oauth2/token').type('form').send('grant_type=client_credentials')).status).toBe(404);
      const grants = await server.pool.query('SELECT count(*)::int AS n FROM grants WHERE client_id = $1', [c.client_id]);
      expect(grants.rows[0].n).toBe(1);
    } finally {
      await server.close();
    }
  });
});
