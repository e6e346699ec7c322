import request from 'supertest';
import { verifyClientSecret } from '../src/clients/client-secret';
import { rawRequest } from './support/raw-http';
import { startTestServer, TestServer } from './support/test-app';
import { OAuthCalls } from './support/token-fixtures';

const REGISTER = '/oauth2/register';

/** What matrix-js-sdk sends for a native client with a loopback redirect URI. */
const nativeClient = (extra: Record<string, unknown> = {}) => ({
  client_name: 'Element X',
  client_uri: 'https://element.example.org/',
  application_type: 'native',
  redirect_uris: ['http://127.0.0.1/callback', 'org.example.element.app:/callback'],
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  ...extra,
});

const webClient = (extra: Record<string, unknown> = {}) => ({
  client_name: 'Element Web',
  client_uri: 'https://element.example.org/',
  redirect_uris: ['https://app.element.example.org/'],
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  ...extra,
});

describe('POST /oauth2/register (RFC 7591, Matrix client registration rules)', () => {
  let server: TestServer;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    server = await startTestServer({ REGISTRATION_RATE_LIMIT: '0' });
    http = request(server.app.getHttpServer());
  });
  afterAll(() => server.close());

  const register = (body: unknown) => http.post(REGISTER).set('Content-Type', 'application/json').send(JSON.stringify(body));
  const row = async (clientId: string) => (await server.pool.query('SELECT * FROM clients WHERE client_id = $1', [clientId])).rows[0];
  const countClients = async () => Number((await server.pool.query('SELECT count(*) FROM clients')).rows[0].count);

  /** A refusal: the status, error and description, and that nothing was stored. */
  async function refused(body: unknown, error: string, field: RegExp): Promise<void> {
    const before = await countClients();
    const res = await register(body);
    expect({ status: res.status, error: res.body.error }).toEqual({ status: 400, error });
    expect(res.body.error_description).toMatch(field);
    expect(Object.keys(res.body).sort()).toEqual(['error', 'error_description']);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(await countClients()).toBe(before);
  }

  describe('success', () => {
    it('registers a public native client: 201 with client_id, client_id_issued_at and every registered value, stored as registered', async () => {
      const before = Math.floor(Date.now() / 1000);
      const res = await register(nativeClient({ 'client_name#fr': 'Élément X', tos_uri: 'https://element.example.org/tos', contacts: ['ops@example.org'] }));
      expect(res.status).toBe(201);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toEqual({
        client_id: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
        client_id_issued_at: expect.any(Number),
        client_name: 'Element X',
        'client_name#fr': 'Élément X',
        client_uri: 'https://element.example.org/',
        tos_uri: 'https://element.example.org/tos',
        contacts: ['ops@example.org'],
        application_type: 'native',
        redirect_uris: ['http://127.0.0.1/callback', 'org.example.element.app:/callback'],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      });
      expect(res.body.client_id_issued_at).toBeGreaterThanOrEqual(before - 1);
      expect(res.body.client_id_issued_at).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
      expect(res.body).not.toHaveProperty('client_secret');

      const stored = await row(res.body.client_id);
      expect(stored).toMatchObject({
        name: 'Element X',
        token_endpoint_auth_method: 'none',
        secret_hash: null,
        grant_types: ['authorization_code', 'refresh_token'],
        redirect_uris: ['http://127.0.0.1/callback', 'org.example.element.app:/callback'],
        response_types: ['code'],
        application_type: 'native',
        disabled_at: null,
        metadata: {
          client_name: 'Element X',
          'client_name#fr': 'Élément X',
          client_uri: 'https://element.example.org/',
          tos_uri: 'https://element.example.org/tos',
          contacts: ['ops@example.org'],
        },
      });
      expect(Math.floor(stored.registered_at.getTime() / 1000)).toBe(res.body.client_id_issued_at);
    });

    it('registers a web client whose redirect URI is on a subdomain of client_uri, with defaults filled in (web, none, the code grant)', async () => {
      const res = await register({ client_uri: 'https://element.example.org', redirect_uris: ['https://app.element.example.org/cb?x=1'] });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        application_type: 'web',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: ['https://app.element.example.org/cb?x=1'],
      });
      expect(await row(res.body.client_id)).toMatchObject({ application_type: 'web', registered_at: expect.any(Date) });
    });

    it('drops grant and response types it does not understand, and metadata it does not know, instead of refusing them', async () => {
      const res = await register(
        webClient({
          grant_types: ['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code', 'refresh_token', 'implicit', 'client_credentials', 'urn:ietf:params:oauth:grant-type:jwt-bearer'],
          response_types: ['code', 'id_token', 'code id_token'],
          scope: 'openid',
          jwks_uri: 'https://element.example.org/jwks',
          software_statement: 'eyJ...',
          'client_name#<b>': 'not a language tag',
          ['__proto__']: { polluted: true },
        }),
      );
      expect(res.status).toBe(201);
      // The device grant (RFC 8628) is served: kept; implicit, client_credentials and jwt-bearer are not offered to registered clients.
      expect(res.body.grant_types).toEqual(['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code']);
      expect(res.body.response_types).toEqual(['code']);
      for (const dropped of ['scope', 'jwks_uri', 'software_statement', 'client_name#<b>', 'polluted']) expect(res.body).not.toHaveProperty(dropped);
      const stored = await row(res.body.client_id);
      expect(stored.grant_types).toEqual(['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code']);
      expect(stored.response_types).toEqual(['code']);
      expect(Object.keys(stored.metadata).sort()).toEqual(['client_name', 'client_uri']);
    });

    it('keeps localised names and URIs (client_name#fr, tos_uri#de-CH) and lets a client register twice as two clients', async () => {
      const body = webClient({ 'client_name#fr': 'Élément', 'tos_uri#de-CH': 'https://legal.element.example.org/de', 'policy_uri': 'https://element.example.org/privacy' });
      const [a, b] = [await register(body), await register(body)];
      expect(a.status).toBe(201);
      expect(b.status).toBe(201);
      expect(a.body.client_id).not.toBe(b.body.client_id);
      expect((await row(a.body.client_id)).metadata).toEqual({
        client_name: 'Element Web',
        'client_name#fr': 'Élément',
        client_uri: 'https://element.example.org/',
        'tos_uri#de-CH': 'https://legal.element.example.org/de',
        policy_uri: 'https://element.example.org/privacy',
      });
    });

    it('a registered public client is known to the other endpoints: revocation accepts its client_id', async () => {
      const res = await register(nativeClient());
      const revoke = await new OAuthCalls(http).revoke('oat_unknown', { client_id: res.body.client_id, token_endpoint_auth_method: 'none', grant_types: [] });
      expect(revoke.status).toBe(200);
    });

    it('is published as registration_endpoint', async () => {
      const doc = (await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
      expect(doc.registration_endpoint).toBe('http://localhost:3000/oauth2/register');
    });
  });

  describe('refused: client_uri and the other client URIs (invalid_client_metadata)', () => {
    it.each([
      ['missing', { client_uri: undefined }, /client_uri is required/],
      ['not a string', { client_uri: 42 }, /client_uri must be a string/],
      ['http', { client_uri: 'http://element.example.org/' }, /client_uri must be an https URL/],
      ['with userinfo', { client_uri: 'https://user:pw@element.example.org/' }, /client_uri must not contain a user name or password/],
      ['with a user name only', { client_uri: 'https://user@element.example.org/' }, /client_uri must not contain a user name/],
      ['relative', { client_uri: '/home' }, /client_uri must be an https URL/],
      ['https without slashes', { client_uri: 'https:element.example.org' }, /client_uri must be an https URL/],
      ['with spaces', { client_uri: 'https://element.example.org/a b' }, /client_uri must be an absolute URI/],
      ['logo_uri over http', { logo_uri: 'http://element.example.org/logo.png' }, /logo_uri must be an https URL/],
      ['logo_uri with userinfo', { logo_uri: 'https://a@element.example.org/logo.png' }, /logo_uri must not contain a user name/],
      ['logo_uri on another host', { logo_uri: 'https://evil.example.com/logo.png' }, /logo_uri must be on the client_uri host/],
      ['logo_uri on a suffix that is not a subdomain', { logo_uri: 'https://notelement.example.org/logo.png' }, /logo_uri must be on the client_uri host/],
      ['logo_uri on the parent domain', { logo_uri: 'https://example.org/logo.png' }, /logo_uri must be on the client_uri host/],
      ['tos_uri on another host', { tos_uri: 'https://evil.example.com/tos' }, /tos_uri must be on the client_uri host/],
      ['policy_uri over http', { policy_uri: 'http://element.example.org/privacy' }, /policy_uri must be an https URL/],
      ['a localised tos_uri on another host', { 'tos_uri#fr': 'https://evil.example.com/cgu' }, /tos_uri#fr must be on the client_uri host/],
      ['client_name not a string', { client_name: ['x'] }, /client_name must be a string/],
      ['client_name with a control character', { client_name: 'a\u0000b' }, /client_name must be 1 to 256 characters/],
      ['client_name too long', { client_name: 'x'.repeat(300) }, /client_name must be 1 to 256/],
      ['a lone surrogate in a localised name', { 'client_name#fr': 'a\ud800' }, /client_name#fr must be 1 to 256/],
      ['contacts not an array of strings', { contacts: 'ops@example.org' }, /contacts must be an array of strings/],
    ])('%s', async (_name, change, field) => {
      await refused(webClient(change), 'invalid_client_metadata', field);
    });
  });

  describe('refused: redirect URIs (invalid_redirect_uri)', () => {
    it.each([
      ['none for the code grant', webClient({ redirect_uris: [] }), /redirect_uris must list at least one/],
      ['missing for the code grant', webClient({ redirect_uris: undefined }), /redirect_uris must list at least one/],
      ['not an array', webClient({ redirect_uris: 'https://app.element.example.org/' }), /redirect_uris must be an array of strings/],
      ['with a fragment', webClient({ redirect_uris: ['https://app.element.example.org/cb#frag'] }), /redirect_uris\[0\] must not contain a fragment/],
      ['with an empty fragment', webClient({ redirect_uris: ['https://app.element.example.org/ok', 'https://app.element.example.org/cb#'] }), /redirect_uris\[1\] must not contain a fragment/],
      ['web: http', webClient({ redirect_uris: ['http://app.element.example.org/cb'] }), /redirect_uris\[0\] must be an https URL: a web client/],
      ['web: http on loopback', webClient({ redirect_uris: ['http://127.0.0.1/cb'] }), /redirect_uris\[0\] must be an https URL: a web client/],
      ['web: a private-use scheme', webClient({ redirect_uris: ['org.example.element:/cb'] }), /redirect_uris\[0\] must be an https URL: a web client/],
      ['web: another host', webClient({ redirect_uris: ['https://evil.example.com/cb'] }), /redirect_uris\[0\] must be on the client_uri host/],
      ['web: a look-alike host', webClient({ redirect_uris: ['https://element.example.org.evil.com/cb'] }), /must be on the client_uri host/],
      ['web: userinfo', webClient({ redirect_uris: ['https://user:pw@app.element.example.org/cb'] }), /must not contain a user name or password/],
      ['web: userinfo hiding another host', webClient({ redirect_uris: ['https://app.element.example.org@evil.com/cb'] }), /must not contain a user name or password/],
      ['web: relative', webClient({ redirect_uris: ['/cb'] }), /must be an absolute URI with a scheme/],
      ['web: an empty authority (https:///host)', webClient({ redirect_uris: ['HTTPS:///app.element.example.org/cb'] }), /must name its host plainly/],
      ['web: a percent-encoded host', webClient({ redirect_uris: ['https://app.el%65ment.example.org/cb'] }), /must name its host plainly/],
      ['web: a space', webClient({ redirect_uris: [' https://app.element.example.org/cb'] }), /must be an absolute URI of at most/],
      ['web: a backslash', webClient({ redirect_uris: ['https://evil.com\\@app.element.example.org/'] }), /must be an absolute URI of at most/],
      ['web: javascript:', webClient({ redirect_uris: ['javascript:alert(1)'] }), /must be an https URL: a web client/],
      ['native: a private-use scheme with an authority', nativeClient({ redirect_uris: ['org.example.element.app://callback'] }), /must not have an authority/],
      ['native: a scheme that is not the reverse domain of client_uri', nativeClient({ redirect_uris: ['com.evil.app:/callback'] }), /reverse domain name order/],
      ['native: the domain itself, not reversed', nativeClient({ redirect_uris: ['element.example.org:/callback'] }), /reverse domain name order/],
      ['native: a scheme without a dot', nativeClient({ redirect_uris: ['element:/callback'] }), /reverse domain name order/],
      ['native: the reverse of the parent domain only', nativeClient({ redirect_uris: ['org.example:/callback'] }), /reverse domain name order/],
      ['native: loopback with a port', nativeClient({ redirect_uris: ['http://127.0.0.1:8080/callback'] }), /without a port/],
      ['native: loopback with the default port', nativeClient({ redirect_uris: ['http://localhost:80/callback'] }), /without a port/],
      ['native: IPv6 loopback with a port', nativeClient({ redirect_uris: ['http://[::1]:1234/callback'] }), /without a port/],
      ['native: http on another host', nativeClient({ redirect_uris: ['http://element.example.org/callback'] }), /http only on localhost, 127.0.0.1 or \[::1\]/],
      ['native: http on a loopback look-alike', nativeClient({ redirect_uris: ['http://127.0.0.2/callback'] }), /http only on localhost/],
      ['native: http on localhost with userinfo', nativeClient({ redirect_uris: ['http://a@localhost/callback'] }), /must not contain a user name or password/],
      ['native: https on another host', nativeClient({ redirect_uris: ['https://evil.example.com/cb'] }), /must be on the client_uri host/],
      ['native: a fragment on a private-use scheme', nativeClient({ redirect_uris: ['org.example.element.app:/callback#x'] }), /must not contain a fragment/],
    ])('%s', async (_name, body, field) => {
      await refused(body, 'invalid_redirect_uri', field);
    });

    it('accepts the native kinds: loopback without a port on each loopback host, a private-use scheme under the client_uri host, https', async () => {
      const res = await register(
        nativeClient({
          redirect_uris: ['http://localhost/cb', 'http://127.0.0.1/', 'http://[::1]/cb?x=y', 'org.example.element:/cb', 'org.example.element.app.beta:cb', 'https://element.example.org/native'],
        }),
      );
      expect(res.status).toBe(201);
      expect((await row(res.body.client_id)).redirect_uris).toEqual([
        'http://localhost/cb',
        'http://127.0.0.1/',
        'http://[::1]/cb?x=y',
        'org.example.element:/cb',
        'org.example.element.app.beta:cb',
        'https://element.example.org/native',
      ]);
    });
  });

  describe('refused: the code grant and the client type (invalid_client_metadata)', () => {
    it.each([
      ['grant_types without authorization_code', { grant_types: ['refresh_token'] }, /grant_types must include authorization_code/],
      ['grant_types with only unknown values', { grant_types: ['password', 'implicit'] }, /grant_types must include authorization_code/],
      ['grant_types without refresh_token', { grant_types: ['authorization_code'] }, /grant_types must include refresh_token/],
      ['grant_types not an array', { grant_types: 'authorization_code' }, /grant_types must be an array of strings/],
      ['response_types without code', { response_types: ['token'] }, /response_types must include code/],
      ['response_types empty', { response_types: [] }, /response_types must include code/],
      ['an unknown application_type', { application_type: 'desktop' }, /application_type must be web or native/],
      ['client_secret_basic while confidential registration is off', { token_endpoint_auth_method: 'client_secret_basic' }, /token_endpoint_auth_method must be none/],
      ['client_secret_post while confidential registration is off', { token_endpoint_auth_method: 'client_secret_post' }, /token_endpoint_auth_method must be none/],
      ['private_key_jwt', { token_endpoint_auth_method: 'private_key_jwt' }, /token_endpoint_auth_method must be none/],
    ])('%s', async (_name, change, field) => {
      await refused(webClient(change), 'invalid_client_metadata', field);
    });

    it('without token_endpoint_auth_method registers a public client (the server substitutes none)', async () => {
      const res = await register(webClient({ token_endpoint_auth_method: undefined }));
      expect(res.status).toBe(201);
      expect(res.body.token_endpoint_auth_method).toBe('none');
      expect(res.body).not.toHaveProperty('client_secret');
    });
  });

  describe('refused: bodies that are not one JSON object of at most 16 KiB (invalid_client_metadata, never 5xx)', () => {
    const send = (body: string, contentType = 'application/json') => http.post(REGISTER).set('Content-Type', contentType).send(body);

    it.each([
      ['malformed JSON', '{"client_uri":', /not valid JSON/],
      ['an array', '[]', /must be a JSON object/],
      ['a string', '"client"', /must be a JSON object/],
      ['null', 'null', /must be a JSON object/],
      ['empty', '', /not valid JSON/],
      ['over 16 KiB', JSON.stringify(webClient({ client_name: 'x'.repeat(17 * 1024) })), /larger than 16384 bytes/],
    ])('%s', async (_name, body, description) => {
      const before = await countClients();
      const res = await send(body);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_client_metadata', error_description: expect.stringMatching(description) });
      expect(await countClients()).toBe(before);
    });

    it.each([['application/x-www-form-urlencoded'], ['text/plain']])('a %s body', async (contentType) => {
      const res = await send('client_uri=https://element.example.org/', contentType);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_client_metadata', error_description: 'The request body must be a JSON object sent as application/json.' });
    });

    it('a chunked body over 16 KiB, and one declared over 16 KiB', async () => {
      const port = Number(new URL(server.url).port);
      const big = Buffer.from(JSON.stringify(webClient({ client_name: 'x'.repeat(20_000) })));
      const chunked = await rawRequest(
        port,
        Buffer.concat([
          Buffer.from(`POST ${REGISTER} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${big.length.toString(16)}\r\n`),
          big,
          Buffer.from('\r\n0\r\n\r\n'),
        ]),
      );
      expect(chunked.status).toBe(400);
      expect(JSON.parse(chunked.body.toString()).error).toBe('invalid_client_metadata');
      const declared = await rawRequest(port, Buffer.from(`POST ${REGISTER} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 999999\r\nConnection: close\r\n\r\n{}`));
      expect(declared.status).toBe(400);
      expect(JSON.parse(declared.body.toString()).error).toBe('invalid_client_metadata');
    });

    it('answers other methods with 405 and a CORS preflight with 204', async () => {
      const get = await http.get(REGISTER);
      expect(get.status).toBe(405);
      expect(get.headers.allow).toBe('POST, OPTIONS');
      expect(get.body).toEqual({ error: 'invalid_request', error_description: 'Use POST to register a client.' });
      const preflight = await http.options(REGISTER).set('Origin', 'https://app.example.com').set('Access-Control-Request-Method', 'POST');
      expect(preflight.status).toBe(204);
      expect(preflight.headers['access-control-allow-headers']).toBe('Authorization, Content-Type');
    });
  });
});

describe('POST /oauth2/register: confidential clients (REGISTRATION_CONFIDENTIAL_CLIENTS=true)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ REGISTRATION_RATE_LIMIT: '0', REGISTRATION_CONFIDENTIAL_CLIENTS: 'true' });
  });
  afterAll(() => server.close());

  it('generates a secret, answers it once with client_secret_expires_at 0, and stores only its hash; the secret then authenticates', async () => {
    const http = request(server.app.getHttpServer());
    const res = await http.post(REGISTER).send(webClient({ token_endpoint_auth_method: 'client_secret_basic' }));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      client_id: expect.any(String),
      client_secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      client_secret_expires_at: 0,
      token_endpoint_auth_method: 'client_secret_basic',
    });
    const { rows } = await server.pool.query('SELECT secret_hash, token_endpoint_auth_method, metadata FROM clients WHERE client_id = $1', [res.body.client_id]);
    expect(rows[0].secret_hash).toMatch(/^sha256\$/);
    expect(JSON.stringify(rows[0])).not.toContain(res.body.client_secret);
    expect(verifyClientSecret(res.body.client_secret, rows[0].secret_hash)).toBe(true);
    const revoke = await new OAuthCalls(http).revoke('oat_unknown', { client_id: res.body.client_id, client_secret: res.body.client_secret, token_endpoint_auth_method: 'client_secret_basic', grant_types: [] });
    expect(revoke.status).toBe(200);
    const wrong = await new OAuthCalls(http).revoke('oat_unknown', { client_id: res.body.client_id, client_secret: 'wrong', token_endpoint_auth_method: 'client_secret_basic', grant_types: [] });
    expect(wrong.status).toBe(401);
  });

  it('defaults to client_secret_basic (RFC 7591 §2), still registers public clients, and refuses private_key_jwt', async () => {
    const http = request(server.app.getHttpServer());
    const byDefault = await http.post(REGISTER).send(webClient({ token_endpoint_auth_method: undefined }));
    expect(byDefault.body).toMatchObject({ token_endpoint_auth_method: 'client_secret_basic', client_secret_expires_at: 0 });
    const post = await http.post(REGISTER).send(webClient({ token_endpoint_auth_method: 'client_secret_post' }));
    expect(post.body).toMatchObject({ token_endpoint_auth_method: 'client_secret_post', client_secret: expect.any(String) });
    const pub = await http.post(REGISTER).send(webClient());
    expect(pub.status).toBe(201);
    expect(pub.body).not.toHaveProperty('client_secret');
    const jwt = await http.post(REGISTER).send(webClient({ token_endpoint_auth_method: 'private_key_jwt' }));
    expect(jwt.body).toEqual({ error: 'invalid_client_metadata', error_description: 'token_endpoint_auth_method must be one of none, client_secret_basic, client_secret_post.' });
  });
});

describe('POST /oauth2/register: abuse controls', () => {
  it('limits registrations per address (REGISTRATION_RATE_LIMIT): past the limit 429 slow_down with Retry-After, and nothing is stored', async () => {
    const server = await startTestServer({ REGISTRATION_RATE_LIMIT: '3', REGISTRATION_RATE_LIMIT_WINDOW_SECONDS: '120' });
    try {
      const http = request(server.app.getHttpServer());
      const ids: string[] = [];
      for (let i = 0; i < 2; i++) ids.push((await http.post(REGISTER).send(webClient())).body.client_id);
      // A refused registration counts too.
      expect((await http.post(REGISTER).send({})).status).toBe(400);
      const before = (await server.pool.query('SELECT count(*)::int AS n FROM clients')).rows[0].n;
      const limited = await http.post(REGISTER).send(webClient());
      expect(limited.status).toBe(429);
      expect(limited.headers['retry-after']).toBe('120');
      expect(limited.body).toEqual({ error: 'slow_down', error_description: 'Too many registrations from this address; retry in 120 seconds.' });
      expect((await server.pool.query('SELECT count(*)::int AS n FROM clients')).rows[0].n).toBe(before);
      expect((await server.pool.query('SELECT count(*)::int AS n FROM clients WHERE client_id = ANY ($1)', [ids])).rows[0].n).toBe(2);
      // Other endpoints are not affected.
      expect((await http.post('/oauth2/revoke').type('form').send('token=x')).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('with an initial access token configured, refuses registration without it or with another one (401 invalid_token) and accepts it', async () => {
    const token = 'iat-0123456789abcdef-XYZ';
    const server = await startTestServer({ REGISTRATION_RATE_LIMIT: '0', REGISTRATION_INITIAL_ACCESS_TOKEN: token });
    try {
      const http = request(server.app.getHttpServer());
      const count = async () => (await server.pool.query('SELECT count(*)::int AS n FROM clients')).rows[0].n;
      const before = await count();
      const missing = await http.post(REGISTER).send(webClient());
      expect(missing.status).toBe(401);
      expect(missing.body).toEqual({ error: 'invalid_token', error_description: 'Registration needs an initial access token: send Authorization: Bearer <token>.' });
      expect(missing.headers['www-authenticate']).toBe('Bearer realm="http://localhost:3000"');
      for (const auth of [`Bearer ${token}x`, `Basic ${Buffer.from(`a:${token}`).toString('base64')}`, `Bearer ${token.slice(0, -1)}`, 'Bearer']) {
        const wrong = await http.post(REGISTER).set('Authorization', auth).send(webClient());
        expect(wrong.status).toBe(401);
        expect(wrong.body.error).toBe('invalid_token');
      }
      const bad = await http.post(REGISTER).set('Authorization', `Bearer ${token}x`).send(webClient());
      expect(bad.headers['www-authenticate']).toBe('Bearer realm="http://localhost:3000", error="invalid_token"');
      expect(await count()).toBe(before);
      const ok = await http.post(REGISTER).set('Authorization', `Bearer ${token}`).send(webClient());
      expect(ok.status).toBe(201);
      expect(await count()).toBe(before + 1);
    } finally {
      await server.close();
    }
  });

  it('REGISTRATION_ENABLED=false serves no registration endpoint and publishes none', async () => {
    const server = await startTestServer({ REGISTRATION_ENABLED: 'false' });
    try {
      const res = await request(server.app.getHttpServer()).post(REGISTER).send(webClient());
      expect(res.status).toBe(404);
      const doc = (await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
      expect(doc).not.toHaveProperty('registration_endpoint');
    } finally {
      await server.close();
    }
  });
});
