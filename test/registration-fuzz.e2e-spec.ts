import fc from 'fast-check';
import { rawRequest } from './support/raw-http';
import { startTestServer, TestServer } from './support/test-app';

const RUNS = Number(process.env.FUZZ_RUNS ?? 3_000);
/** RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E (so it can never echo arbitrary input). */
const DESCRIPTION_CHARS = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** What a stored redirect URI may look like, checked independently of the validator. */
function isAcceptableRedirectUri(uri: string, clientHost: string, applicationType: string): boolean {
  if (uri.includes('#') || !/^[\x21-\x7e]+$/.test(uri) || uri.includes('\\')) return false;
  const https = /^https:\/\/([^/?@]+)(?:[/?]|$)/i.exec(uri);
  if (https) {
    const host = new URL(uri).hostname;
    return host === clientHost || host.endsWith(`.${clientHost}`);
  }
  if (applicationType !== 'native') return false;
  if (/^http:\/\//i.test(uri)) return /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(?:[/?]|$)/.test(uri);
  const scheme = /^([a-z][a-z0-9+.-]*):(?!\/\/)/i.exec(uri);
  if (!scheme) return false;
  const domain = scheme[1].toLowerCase().split('.').reverse().join('.');
  return scheme[1].includes('.') && (domain === clientHost || domain.endsWith(`.${clientHost}`));
}

describe('POST /oauth2/register under hostile input (property-based)', () => {
  let server: TestServer;
  let port: number;

  beforeAll(async () => {
    server = await startTestServer({ REGISTRATION_RATE_LIMIT: '0' });
    port = Number(new URL(server.url).port);
  });
  afterAll(() => server.close());

  it(`never answers 5xx, stores only clients whose redirect URIs obey the rules, and answers RFC 7591 errors otherwise (${RUNS} requests)`, async () => {
    const randomBytes = fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('latin1'));
    const text = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'grapheme', maxLength: 15 }), fc.string({ unit: 'binary', maxLength: 15 }), randomBytes);
    const host = fc.constantFrom('example.org', 'app.example.org', 'evil.com', 'example.org.evil.com', 'localhost', '127.0.0.1', '[::1]', 'EXAMPLE.org', 'xn--exmple-cua.org', '');
    const scheme = fc.constantFrom('https', 'http', 'HTTPS', 'org.example', 'org.example.app', 'com.evil', 'javascript', 'data', 'file', 'org.example.');
    const uri = fc.oneof(
      { weight: 6, arbitrary: fc.tuple(scheme, fc.constantFrom('://', ':/', ':', '://user:pw@', '://a@', ':///'), host, fc.constantFrom('', ':8080', ':80', ':', ':99999'), fc.constantFrom('', '/', '/cb', '/cb?x=1', '/cb#f', '#', '/%00', '/a b', '/\\evil', '?q', '/..;/x')).map((p) => p.join('')) },
      { weight: 2, arbitrary: text },
      { weight: 1, arbitrary: fc.constant('x'.repeat(3000)) },
    );
    const jsonValue = fc.oneof(
      { weight: 4, arbitrary: uri },
      { weight: 2, arbitrary: fc.array(uri, { maxLength: 4 }) },
      { weight: 2, arbitrary: text },
      { weight: 1, arbitrary: fc.constantFrom(null, true, 0, -1, 1e308, [], {}, [null], [[]], { a: 1 }) },
      { weight: 1, arbitrary: fc.array(fc.constantFrom('authorization_code', 'refresh_token', 'code', 'implicit', 'client_credentials', 'token', 'none', 'client_secret_basic', 'native', 'web'), { maxLength: 4 }) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    );
    const key = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.constantFrom(
          'client_uri', 'client_uri', 'redirect_uris', 'redirect_uris', 'application_type', 'grant_types', 'response_types', 'token_endpoint_auth_method',
          'client_name', 'client_name#fr', 'logo_uri', 'tos_uri', 'policy_uri', 'tos_uri#de-CH', 'contacts', 'software_id', '__proto__', 'constructor', 'client_id', 'client_secret',
        ),
      },
      { weight: 1, arbitrary: text },
    );
    // Start from a valid registration most of the time, then break some of it.
    const base = fc.record({
      client_uri: fc.constantFrom('https://example.org/', 'https://app.example.org', 'https://example.org:8443/x'),
      application_type: fc.constantFrom('web', 'native', undefined),
      redirect_uris: fc.array(
        fc.oneof({ weight: 3, arbitrary: fc.constantFrom('https://app.example.org/cb', 'http://127.0.0.1/cb', 'http://[::1]/', 'org.example.app:/cb', 'https://example.org:8443/cb?x=1') }, { weight: 1, arbitrary: uri }),
        { minLength: 1, maxLength: 3 },
      ),
      token_endpoint_auth_method: fc.constantFrom('none', undefined, 'client_secret_basic'),
    });
    const objectBody = fc.tuple(base, fc.oneof(fc.constant([] as Array<[string, unknown]>), fc.array(fc.tuple(key, jsonValue), { maxLength: 5 }))).map(([b, changes]) => {
      const body: Record<string, unknown> = { ...b };
      for (const [k, v] of changes) Object.defineProperty(body, k, { value: v, enumerable: true, configurable: true, writable: true });
      return JSON.stringify(body);
    });
    const body = fc.oneof(
      { weight: 8, arbitrary: objectBody },
      { weight: 1, arbitrary: randomBytes },
      { weight: 1, arbitrary: fc.constantFrom('', '[]', 'null', '"x"', '{', '{"client_uri":"https://example.org/"}', `{"client_name":"${'x'.repeat(17000)}"}`, '{"a":1}'.repeat(3000)) },
    );
    const method = fc.oneof({ weight: 8, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT', 'OPTIONS', 'HEAD', 'DELETE') });
    const contentType = fc.option(fc.oneof({ weight: 6, arbitrary: fc.constant('application/json') }, { weight: 1, arbitrary: fc.constantFrom('application/json; charset=utf-8', 'APPLICATION/JSON', 'text/plain', 'application/x-www-form-urlencoded') }, { weight: 1, arbitrary: randomBytes }), { freq: 8 });
    const authorization = fc.option(fc.oneof(text.map((t) => 'Bearer ' + t), text), { freq: 6 });
    const chunked = fc.boolean();

    let requests = 0;
    let created = 0;
    await fc.assert(
      fc.asyncProperty(method, contentType, authorization, body, chunked, async (m, ct, auth, b, useChunks) => {
        requests++;
        const payload = Buffer.from(b, 'utf8');
        const head = [`${m} /oauth2/register HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
        if (ct !== null) head.push(`Content-Type: ${ct}`);
        if (auth !== null) head.push(`Authorization: ${auth}`);
        head.push(useChunks ? 'Transfer-Encoding: chunked' : `Content-Length: ${payload.length}`);
        const framed = useChunks ? Buffer.concat([Buffer.from(`${payload.length.toString(16)}\r\n`), payload, Buffer.from('\r\n0\r\n\r\n')]) : payload;
        const answer = await rawRequest(port, Buffer.concat([Buffer.from(head.join('\r\n') + '\r\n\r\n', 'latin1'), framed]));

        expect(answer.status).toBeLessThan(500);
        if (answer.status === 201) {
          created++;
          const client = JSON.parse(answer.body.toString('utf8'));
          const { rows } = await server.pool.query('SELECT redirect_uris, application_type, metadata FROM clients WHERE client_id = $1', [client.client_id]);
          expect(rows).toHaveLength(1);
          expect(rows[0].redirect_uris).toEqual(client.redirect_uris);
          expect(rows[0].redirect_uris.length).toBeGreaterThan(0);
          const clientHost = new URL(rows[0].metadata.client_uri).hostname;
          for (const u of rows[0].redirect_uris) expect([u, isAcceptableRedirectUri(u, clientHost, rows[0].application_type)]).toEqual([u, true]);
        } else if (answer.body.length === 0) {
          expect(answer.status === 204 || m === 'HEAD').toBe(true);
        } else {
          const parsed = JSON.parse(answer.body.toString('utf8'));
          expect(Object.keys(parsed).sort()).toEqual(['error', 'error_description']);
          expect(parsed.error).toMatch(/^[a-z_]+$/);
          expect(parsed.error_description).toMatch(DESCRIPTION_CHARS);
          // Node's HTTP parser answers broken requests itself (server.ts) before they reach the endpoint.
          const malformedHttp = parsed.error === 'invalid_request' && /not well-formed HTTP|headers are too large/.test(parsed.error_description);
          if (m === 'POST' && answer.status === 400 && !malformedHttp) expect([parsed.error_description, parsed.error]).toEqual([parsed.error_description, expect.stringMatching(/^(invalid_client_metadata|invalid_redirect_uri)$/)]);
        }
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
    expect(requests).toBe(RUNS);
    // The generator is meant to reach the success path too, not only refusals.
    expect(created).toBeGreaterThan(0);
  }, 600_000);
});
