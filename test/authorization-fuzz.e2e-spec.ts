import fc from 'fast-check';
import type { CreatedClient } from '../src/clients/clients.service';
import { codeClient, pkce } from './support/authorization-fixtures';
import { rawRequest } from './support/raw-http';
import { startTestServer, TestServer } from './support/test-app';

const RUNS = Number(process.env.FUZZ_RUNS ?? 2_000);
const ISSUER = 'http://localhost:3000';

describe('GET|POST /oauth2/authorize under hostile input (property-based)', () => {
  let server: TestServer;
  let port: number;
  let web: CreatedClient;
  let native: CreatedClient;

  beforeAll(async () => {
    server = await startTestServer();
    port = Number(new URL(server.url).port);
    web = await codeClient(server.app, 'none', ['https://app.example.com/callback', 'https://app.example.com/other?x=1']);
    native = await codeClient(server.app, 'none', ['http://127.0.0.1/cb', 'com.example.app:/cb']);
  });
  afterAll(() => server.close());

  it(`never answers 5xx, and never redirects anywhere but the login step or a registered redirect URI of the named client (${RUNS} requests)`, async () => {
    const registered = new Map([web, native].map((c) => [c.client_id, c.redirect_uris!]));
    const text = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'grapheme', maxLength: 12 }), fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('latin1')));
    const clientId = fc.oneof(fc.constantFrom(web.client_id, native.client_id, 'nosuch', ''), text);
    const redirectUri = fc.oneof(
      fc.constantFrom(
        'https://app.example.com/callback',
        'https://app.example.com/other?x=1',
        'https://app.example.com/callback#frag',
        'https://app.example.com/callback/',
        'https://APP.example.com/callback',
        'https://evil.example.net/callback',
        'http://127.0.0.1/cb',
        'http://127.0.0.1:4000/cb',
        'http://127.0.0.1:4000/cb?x',
        'http://localhost:4000/cb',
        'http://user@127.0.0.1:4000/cb',
        'com.example.app:/cb',
        'com.example.app://cb',
        'javascript:alert(1)',
      ),
      text,
    );
    const value = fc.oneof(text, fc.constantFrom('code', 'token', 'S256', 'plain', 'query', 'fragment', 'form_post', 'none', 'login', pkce().challenge, 'openid', 'a  b'));
    const name = fc.constantFrom('response_type', 'code_challenge', 'code_challenge_method', 'scope', 'state', 'response_mode', 'prompt', 'client_id', 'redirect_uri', 'nonce');
    const params = fc.tuple(fc.option(clientId, { freq: 8 }), fc.option(redirectUri, { freq: 8 }), fc.array(fc.tuple(name, value), { maxLength: 8 }));
    const method = fc.constantFrom('GET', 'GET', 'POST');

    await fc.assert(
      fc.asyncProperty(method, params, async (m, [id, uri, rest]) => {
        const pairs: Array<[string, string]> = [...(id !== null ? [['client_id', id] as [string, string]] : []), ...(uri !== null ? [['redirect_uri', uri] as [string, string]] : []), ...rest];
        const encoded = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
        const head = m === 'GET'
          ? [`GET /oauth2/authorize?${encoded} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', 'Content-Length: 0']
          : ['POST /oauth2/authorize HTTP/1.1', 'Host: 127.0.0.1', 'Connection: close', 'Content-Type: application/x-www-form-urlencoded', `Content-Length: ${Buffer.byteLength(encoded)}`];
        const answer = await rawRequest(port, Buffer.from(head.join('\r\n') + '\r\n\r\n' + (m === 'POST' ? encoded : ''), 'utf8'));
        expect(answer.status).toBeLessThan(500);
        if (answer.status !== 302) {
          expect(answer.status).toBe(400);
          expect(answer.headers.location).toBeUndefined();
          return;
        }
        const location = answer.headers.location;
        if (location.startsWith(`${ISSUER}/login?request=`)) return;
        // Otherwise it goes back to the client: to a URI registered for the client the request named.
        const sentId = pairs.find(([k]) => k === 'client_id')![1];
        const sentUri = pairs.find(([k]) => k === 'redirect_uri')![1];
        const uris = registered.get(sentId)!;
        const loopback = sentUri.startsWith('http://127.0.0.1:') && uris.includes(`http://127.0.0.1${new URL(sentUri).pathname}`);
        expect(uris.includes(sentUri) || loopback).toBe(true);
        expect(location.startsWith(sentUri.split('#')[0])).toBe(true);
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
  }, 600_000);
});
