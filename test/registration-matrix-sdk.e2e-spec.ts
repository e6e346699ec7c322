import { run } from './support/processes';
import { startTestServer, TestServer } from './support/test-app';

// matrix-js-sdk is ESM: it runs in a process of its own (test/support/matrix-sdk-register.mjs).
describe('matrix-js-sdk (OAuth2.registerClient) registers against the server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ REGISTRATION_RATE_LIMIT: '0' });
  });
  afterAll(() => server.close());

  const register = async (clientMetadata: Record<string, unknown>) => {
    const r = await run('node', ['test/support/matrix-sdk-register.mjs', JSON.stringify({ base: server.url, issuer: server.config.issuer, clientMetadata })], {});
    // The SDK logs to stdout; the script's answer is the last line.
    return { code: r.code, json: JSON.parse(r.stdout.trim().split('\n').pop() || '{}') as Record<string, unknown> };
  };

  it('a native client with a loopback redirect URI: the SDK accepts the metadata, gets a client_id, and the client is stored as the SDK sent it', async () => {
    const native = await register({
      client_name: 'Element X (test)',
      client_uri: 'https://element.example.org',
      application_type: 'native',
      redirect_uris: ['http://127.0.0.1/callback', 'org.example.element:/callback'],
      tos_uri: 'https://element.example.org/tos',
      logo_uri: 'https://evil.example.com/logo.png', // the SDK itself leaves out a URI off the client_uri host
    });
    expect(native).toEqual({ code: 0, json: { validMetadata: true, clientId: expect.any(String) } });
    const { rows } = await server.pool.query(
      'SELECT application_type, redirect_uris, grant_types, response_types, token_endpoint_auth_method, metadata FROM clients WHERE client_id = $1',
      [native.json.clientId],
    );
    expect(rows[0]).toEqual({
      application_type: 'native',
      redirect_uris: ['http://127.0.0.1/callback', 'org.example.element:/callback'],
      // The SDK asks for the device grant too, because discovery lists it (RFC 8628).
      grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      metadata: { client_name: 'Element X (test)', client_uri: 'https://element.example.org', tos_uri: 'https://element.example.org/tos' },
    });
  });

  it('a web client registers too, and one the rules refuse makes the SDK report a failed registration', async () => {
    const web = await register({ client_name: 'Element Web (test)', client_uri: 'https://app.element.example.org', application_type: 'web', redirect_uris: ['https://app.element.example.org/callback'] });
    expect(web).toEqual({ code: 0, json: { validMetadata: true, clientId: expect.any(String) } });
    const refused = await register({ client_uri: 'https://app.element.example.org', application_type: 'web', redirect_uris: ['http://127.0.0.1/callback'] });
    expect(refused).toEqual({ code: 1, json: { error: expect.any(String) } });
  });
});
