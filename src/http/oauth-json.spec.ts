import { PassThrough } from 'node:stream';
import type { Request } from 'express';
import { readOAuthJson } from './oauth-json';
import { OAuthException } from './oauth.exception';
import { bufferOAuthBody, OAUTH_BODY_LIMIT_BYTES } from './request-body';
import { refusal } from '../../test/support/oauth-refusal';

function fakeRequest(init: { headers?: Record<string, string>; body?: unknown; parsed?: boolean } = {}): Request {
  const stream = new PassThrough() as unknown as Request & Record<string, unknown>;
  Object.assign(stream, { method: 'POST', url: '/oauth2/register', headers: { 'content-type': 'application/json', ...init.headers }, body: init.body, _body: init.parsed });
  return stream;
}

async function jsonOf(raw: string, headers: Record<string, string> = {}): Promise<unknown> {
  const req = fakeRequest({ headers });
  const buffered = new Promise<void>((resolve) => bufferOAuthBody(req, resolve, 'json'));
  (req as unknown as PassThrough).end(raw);
  await buffered;
  return readOAuthJson(req, 'invalid_client_metadata');
}

describe('OAuth JSON reading (RFC 7591 §3.1)', () => {
  it('reads one JSON object from the raw body, with a charset parameter or without', async () => {
    expect(await jsonOf('{"client_uri":"https://a.example","n":[1]}')).toEqual({ client_uri: 'https://a.example', n: [1] });
    expect(await jsonOf('{}', { 'content-type': 'Application/JSON; charset=utf-8' })).toEqual({});
  });

  it('refuses malformed JSON, and JSON that is not an object, with the endpoint error code and 400', async () => {
    expect(await refusal(jsonOf('{"a":'))).toBe('400 invalid_client_metadata: The request body is not valid JSON; send one JSON object.');
    for (const raw of ['[]', 'null', '1', '"s"']) expect(await refusal(jsonOf(raw))).toBe('400 invalid_client_metadata: The request body must be a JSON object.');
  });

  it('refuses a body over 16 KiB, read or declared, and asks to close the connection', async () => {
    const err = await jsonOf(JSON.stringify({ a: 'x'.repeat(OAUTH_BODY_LIMIT_BYTES) })).then(() => null, (e: OAuthException) => e);
    expect([err?.getStatus(), err?.error, err?.headers]).toEqual([400, 'invalid_client_metadata', { Connection: 'close' }]);
    const declared = fakeRequest({ headers: { 'content-length': String(OAUTH_BODY_LIMIT_BYTES + 1) } });
    await new Promise<void>((resolve) => bufferOAuthBody(declared, resolve, 'json'));
    expect(await refusal(() => readOAuthJson(declared, 'invalid_client_metadata'))).toBe(`400 invalid_client_metadata: The request body is larger than ${OAUTH_BODY_LIMIT_BYTES} bytes.`);
  });

  it('refuses other content types, forms included, and defaults to invalid_request', async () => {
    expect(await refusal(() => readOAuthJson(fakeRequest({ headers: { 'content-type': 'application/x-www-form-urlencoded' } })))).toBe(
      '400 invalid_request: The request body must be a JSON object sent as application/json.',
    );
  });

  it("uses what the host app's parser produced, with the same rules", async () => {
    expect(readOAuthJson(fakeRequest({ body: { a: 1 }, parsed: true }))).toEqual({ a: 1 });
    expect(await refusal(() => readOAuthJson(fakeRequest({ body: ['x'], parsed: true }), 'invalid_client_metadata'))).toBe('400 invalid_client_metadata: The request body must be a JSON object.');
    expect(await refusal(() => readOAuthJson(fakeRequest({ body: { a: 'x'.repeat(OAUTH_BODY_LIMIT_BYTES) }, parsed: true })))).toMatch(/^400 invalid_request: The request body is larger than/);
  });
});
