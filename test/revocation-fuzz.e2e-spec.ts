import fc from 'fast-check';
import { generateToken } from '../src/grants/token-format';
import { basic, Fixtures } from './support/fixtures';
import { rawRequest } from './support/raw-http';
import { startTestServer, TestServer } from './support/test-app';

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);

describe('POST /oauth2/revoke under hostile input (property-based)', () => {
  let server: TestServer;
  let fx: Fixtures;
  let port: number;
  let client: { client_id: string; client_secret?: string };
  const bait: Array<{ grant_id: string; access_token: string; refresh_token: string }> = [];
  const control: Array<{ grant_id: string }> = [];

  beforeAll(async () => {
    server = await startTestServer();
    fx = new Fixtures(server.app, server.pool);
    port = Number(new URL(server.url).port);
    client = await fx.client('client_secret_basic');
    for (let i = 0; i < 25; i++) bait.push(await fx.login(client.client_id));
    for (let i = 0; i < 10; i++) control.push(await fx.login(client.client_id));
  });
  afterAll(() => server.close());

  it(`never answers 5xx, never revokes without a valid token, and always answers an RFC 6749 error or an empty 200 (${RUNS} requests)`, async () => {
    const huge = (n: number) => fc.constant('A'.repeat(n));
    const randomBytes = fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('latin1'));
    const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), randomBytes);
    const baitToken = fc.integer({ min: 0, max: bait.length - 1 }).chain((i) => fc.constantFrom(bait[i].access_token, bait[i].refresh_token));
    const value = fc.oneof(
      { weight: 3, arbitrary: baitToken },
      { weight: 2, arbitrary: fc.constant(null).map(() => generateToken('oat_')) },
      { weight: 3, arbitrary: text },
      { weight: 1, arbitrary: fc.constant('') },
      { weight: 1, arbitrary: huge(20_000) },
      { weight: 1, arbitrary: text.map((t) => encodeURIComponent(t)) },
    );
    const name = fc.oneof(fc.constantFrom('token', 'token', 'token_type_hint', 'client_id', 'client_secret', 'token[]', 'token[a]'), text);
    const formBody = fc.array(fc.tuple(name, value), { maxLength: 6 }).map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&'));
    const body = fc.oneof({ weight: 4, arbitrary: formBody }, { weight: 1, arbitrary: randomBytes }, { weight: 1, arbitrary: fc.constant('{"token":"x"}') });
    const method = fc.oneof(
      { weight: 6, arbitrary: fc.constant('POST') },
      { weight: 3, arbitrary: fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND') },
      { weight: 1, arbitrary: fc.stringMatching(/^[A-Z]{1,8}$/) },
    );
    const contentType = fc.option(
      fc.oneof(
        fc.constantFrom('application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=utf-8', 'APPLICATION/X-WWW-FORM-URLENCODED', 'application/json', 'text/plain', 'multipart/form-data; boundary=zz'),
        randomBytes,
      ),
      { freq: 5 },
    );
    const authorization = fc.option(
      fc.oneof(
        fc.constant(basic(client.client_id, client.client_secret!)),
        fc.constant(basic(client.client_id, 'wrong')),
        text.map((t) => 'Basic ' + Buffer.from(t, 'latin1').toString('base64')),
        text.map((t) => 'Basic ' + t),
        text.map((t) => 'Bearer ' + t),
        text,
        huge(20_000).map((h) => 'Basic ' + h),
      ),
      { freq: 3 },
    );
    const query = fc.option(fc.oneof(fc.constantFrom('?token=x', '?client_secret=s', '?a=b', '?%ff=%fe', '?token_type_hint='), text.map((t) => '?' + t)), { freq: 4 });
    const extraHeader = fc.option(fc.oneof(huge(20_000), text), { freq: 8 });
    const chunked = fc.boolean();

    const revokedBy = new Set<string>(); // tokens sent in a request that was answered 200
    let requests = 0;

    await fc.assert(
      fc.asyncProperty(method, query, contentType, authorization, body, extraHeader, chunked, async (m, q, ct, auth, b, extra, useChunks) => {
        requests++;
        const payload = Buffer.from(b, 'latin1');
        const head = [`${m} /oauth2/revoke${q ?? ''} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
        if (ct !== null) head.push(`Content-Type: ${ct}`);
        if (auth !== null) head.push(`Authorization: ${auth}`);
        if (extra !== null) head.push(`X-Extra: ${extra}`);
        head.push(useChunks ? 'Transfer-Encoding: chunked' : `Content-Length: ${payload.length}`);
        const framed = useChunks ? Buffer.concat([Buffer.from(`${payload.length.toString(16)}\r\n`), payload, Buffer.from('\r\n0\r\n\r\n')]) : payload;
        const answer = await rawRequest(port, Buffer.concat([Buffer.from(head.join('\r\n') + '\r\n\r\n', 'latin1'), framed]));

        expect(answer.status).toBeLessThan(500);
        if (answer.status === 200) {
          expect(answer.body.length).toBe(0);
          for (const t of bait) for (const tok of [t.access_token, t.refresh_token]) if (b.includes(tok)) revokedBy.add(tok);
        } else if (answer.body.length === 0) {
          // Only a preflight, or a HEAD answer (which carries headers only), may be empty.
          expect(answer.status === 204 || m === 'HEAD').toBe(true);
        } else {
          const parsed = JSON.parse(answer.body.toString('utf8'));
          expect(typeof parsed.error).toBe('string');
          expect(parsed.error).toMatch(/^[a-z_]+$/);
          expect(typeof parsed.error_description).toBe('string');
          expect(Object.keys(parsed).sort()).toEqual(['error', 'error_description']);
        }
      }),
      { numRuns: RUNS, endOnFailure: true },
    );

    expect(requests).toBe(RUNS);
    for (const c of control) expect(await fx.grantState(c.grant_id)).toMatchObject({ grantRevoked: false, liveAccess: 1, liveRefresh: 1 });
    for (const t of bait) {
      const state = await fx.grantState(t.grant_id);
      if (state.grantRevoked) expect(revokedBy.has(t.access_token) || revokedBy.has(t.refresh_token)).toBe(true);
    }
  }, 600_000);
});
