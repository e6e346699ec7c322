import request from 'supertest';
import { Fixtures } from './support/fixtures';
import { startTestServer, TestServer } from './support/test-app';

const FORM = 'application/x-www-form-urlencoded';

describe('POST /oauth2/revoke: request parsing', () => {
  let server: TestServer;
  let fx: Fixtures;
  let http: ReturnType<typeof request>;
  let clientId: string;

  beforeAll(async () => {
    server = await startTestServer();
    fx = new Fixtures(server.app, server.pool);
    http = request(server.app.getHttpServer());
    clientId = (await fx.client('none')).client_id;
  });
  afterAll(() => server.close());

  const expectOAuthError = (res: request.Response, status: number, error: string) => {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({ error, error_description: expect.any(String) });
  };

  it('accepts application/x-www-form-urlencoded with a charset parameter and revokes', async () => {
    const login = await fx.login(clientId);
    const res = await http.post('/oauth2/revoke').set('Content-Type', `${FORM}; charset=UTF-8`).send(`token=${login.access_token}`);
    expect(res.status).toBe(200);
    expect((await fx.grantState(login.grant_id)).grantRevoked).toBe(true);
  });

  it.each([['application/json', '{"token":"x"}'], ['text/plain', 'token=x'], ['multipart/form-data; boundary=x', '--x--']])(
    'answers 400 invalid_request for content type %s and revokes nothing',
    async (type, body) => {
      const login = await fx.login(clientId);
      const res = await http.post('/oauth2/revoke').set('Content-Type', type).send(body.replace('x', login.access_token));
      expectOAuthError(res, 400, 'invalid_request');
      expect((await fx.grantState(login.grant_id)).grantRevoked).toBe(false);
    },
  );

  it('answers 400 invalid_request when the content type is missing', async () => {
    const login = await fx.login(clientId);
    const res = await http.post('/oauth2/revoke').set('Content-Type', '').send(Buffer.from(`token=${login.access_token}`));
    expectOAuthError(res, 400, 'invalid_request');
    expect((await fx.grantState(login.grant_id)).grantRevoked).toBe(false);
  });

  it('answers 400 invalid_request when a parameter is sent twice, and revokes neither token', async () => {
    const a = await fx.login(clientId);
    const b = await fx.login(clientId);
    const res = await http.post('/oauth2/revoke').type('form').send(`token=${a.access_token}&token=${b.access_token}`);
    expectOAuthError(res, 400, 'invalid_request');
    expect(res.body.error_description).toContain('token');
    expect((await fx.grantState(a.grant_id)).grantRevoked).toBe(false);
    expect((await fx.grantState(b.grant_id)).grantRevoked).toBe(false);
  });

  it('treats an empty value as absent: token= is a missing token', async () => {
    const res = await http.post('/oauth2/revoke').type('form').send('token=');
    expectOAuthError(res, 400, 'invalid_request');
    expect(res.body.error_description).toMatch(/token is required/);
  });

  it('ignores unknown parameters', async () => {
    const login = await fx.login(clientId);
    const res = await http.post('/oauth2/revoke').type('form').send(`token=${login.refresh_token}&flavour=vanilla&x_extension=1`);
    expect(res.status).toBe(200);
    expect((await fx.grantState(login.grant_id)).grantRevoked).toBe(true);
  });

  it.each(['token', 'token_type_hint', 'client_id', 'client_secret'])('answers 400 invalid_request when %s is in the URL query', async (name) => {
    const login = await fx.login(clientId);
    const res = await http.post(`/oauth2/revoke?${name}=x`).type('form').send(`token=${login.access_token}`);
    expectOAuthError(res, 400, 'invalid_request');
    expect(res.body.error_description).toContain(name);
    expect((await fx.grantState(login.grant_id)).grantRevoked).toBe(false);
  });

  it('answers 400 invalid_request when token is missing', async () => {
    const res = await http.post('/oauth2/revoke').type('form').send('token_type_hint=access_token');
    expectOAuthError(res, 400, 'invalid_request');
    expect(res.body.error_description).toMatch(/token is required/);
  });

  it.each(['get', 'put', 'delete', 'patch'] as const)('answers %s with 405 and Allow: POST, OPTIONS', async (method) => {
    const res = await http[method]('/oauth2/revoke');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('POST, OPTIONS');
    expect(res.body.error).toBe('invalid_request');
  });

  it('answers a body over 16 KiB with 413 and an OAuth error, and keeps serving', async () => {
    const login = await fx.login(clientId);
    const res = await http.post('/oauth2/revoke').type('form').send(`token=${login.access_token}&pad=${'a'.repeat(17 * 1024)}`);
    expectOAuthError(res, 413, 'invalid_request');
    expect((await fx.grantState(login.grant_id)).grantRevoked).toBe(false);
    expect((await http.post('/oauth2/revoke').type('form').send(`token=${login.access_token}`)).status).toBe(200);
  });

  it('answers a streamed (chunked) body over 16 KiB with 413 as well', async () => {
    const res = await fetch(`${server.url}/oauth2/revoke`, {
      method: 'POST',
      headers: { 'Content-Type': FORM },
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < 40; i++) controller.enqueue(new TextEncoder().encode(`pad${i}=${'b'.repeat(1000)}&`));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
  });

  it('carries Cache-Control: no-store and Pragma: no-cache on success and on errors', async () => {
    const ok = await http.post('/oauth2/revoke').type('form').send('token=whatever');
    const bad = await http.post('/oauth2/revoke').type('form').send('');
    const wrongMethod = await http.get('/oauth2/revoke');
    for (const res of [ok, bad, wrongMethod]) {
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers.pragma).toBe('no-cache');
    }
  });

  it('answers a CORS preflight with 204 and the allowed methods, headers and max age', async () => {
    const res = await http
      .options('/oauth2/revoke')
      .set('Origin', 'https://app.element.example')
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization, content-type');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-methods']).toBe('POST, OPTIONS');
    expect(res.headers['access-control-allow-headers']).toBe('Authorization, Content-Type');
    expect(res.headers['access-control-max-age']).toBe('600');
  });

  it('exposes WWW-Authenticate to browsers on real responses', async () => {
    const res = await http.post('/oauth2/revoke').set('Origin', 'https://app.element.example').type('form').send('token=x');
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-expose-headers']).toBe('WWW-Authenticate');
  });

  it('leaves the host app routes in their own error format', async () => {
    const res = await http.get('/no-such-route');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ statusCode: 404 });
    expect(res.body.error_description).toBeUndefined();
  });
});

describe('POST /oauth2/revoke: configured CORS origins', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ CORS_ORIGINS: 'https://app.example.com, https://other.example.com', CORS_MAX_AGE_SECONDS: '60' });
  });
  afterAll(() => server.close());

  it('allows a configured origin and varies on Origin', async () => {
    const res = await request(server.app.getHttpServer()).options('/oauth2/revoke').set('Origin', 'https://other.example.com');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('https://other.example.com');
    expect(res.headers.vary).toMatch(/Origin/);
    expect(res.headers['access-control-max-age']).toBe('60');
  });

  it('sends no allow-origin header to an origin that is not configured', async () => {
    const res = await request(server.app.getHttpServer()).options('/oauth2/revoke').set('Origin', 'https://evil.example.net');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});
