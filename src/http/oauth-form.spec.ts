import { PassThrough } from 'node:stream';
import type { Request } from 'express';
import { readOAuthForm } from './oauth-form';
import { bufferOAuthBody, OAUTH_BODY_LIMIT_BYTES as OAUTH_FORM_LIMIT_BYTES } from './request-body';
import { OAuthException } from './oauth.exception';
import { refusal } from '../../test/support/oauth-refusal';

const FORM = 'application/x-www-form-urlencoded';

/** A request as Express hands it over: a readable stream with method, url and headers. */
function fakeRequest(init: { url?: string; headers?: Record<string, string>; body?: unknown; query?: Record<string, unknown> } = {}): Request {
  const stream = new PassThrough() as unknown as Request & Record<string, unknown>;
  Object.assign(stream, { method: 'POST', url: init.url ?? '/oauth2/revoke', headers: { 'content-type': FORM, ...init.headers }, body: init.body, query: init.query ?? {} });
  return stream;
}

/** Streams `raw` through bufferOAuthBody, then reads the form. */
async function formOf(raw: string | Buffer, headers: Record<string, string> = {}): Promise<Record<string, string>> {
  const req = fakeRequest({ headers });
  const buffered = new Promise<void>((resolve) => bufferOAuthBody(req, resolve));
  (req as unknown as PassThrough).end(raw);
  await buffered;
  return { ...readOAuthForm(req) };
}

describe('OAuth form reading (RFC 6749 §3.2, §2.3.1)', () => {
  it('reads a raw form body, dropping empty values as absent', async () => {
    expect(await formOf('token=abc&token_type_hint=&client_id=app')).toEqual({ token: 'abc', client_id: 'app' });
  });

  it('decodes form encoding (plus as space, percent escapes)', async () => {
    expect(await formOf('scope=openid+profile&client_id=a%2Fb')).toEqual({ scope: 'openid profile', client_id: 'a/b' });
  });

  it('refuses a parameter sent twice, even with the same value', async () => {
    expect(await refusal(formOf('token=a&token=a'))).toBe('400 invalid_request: The parameter token was sent more than once.');
  });

  it('refuses a body over the limit with 413 and closes the connection after the answer', async () => {
    const err = await formOf(`token=${'x'.repeat(OAUTH_FORM_LIMIT_BYTES)}`).then(() => null, (e: OAuthException) => e);
    expect(err).toBeInstanceOf(OAuthException);
    expect(err!.getStatus()).toBe(413);
    expect(err!.headers).toEqual({ Connection: 'close' });
  });

  it('refuses a declared Content-Length over the limit without reading the body', async () => {
    const req = fakeRequest({ headers: { 'content-length': String(OAUTH_FORM_LIMIT_BYTES + 1) } });
    await new Promise<void>((resolve) => bufferOAuthBody(req, resolve));
    expect(await refusal(() => readOAuthForm(req))).toBe(`413 invalid_request: The request body is larger than ${OAUTH_FORM_LIMIT_BYTES} bytes.`);
  });

  it('refuses any other content type, JSON included', async () => {
    const req = fakeRequest({ headers: { 'content-type': 'application/json' }, body: { token: 'x' } });
    expect(await refusal(() => readOAuthForm(req))).toBe('400 invalid_request: The request body must be application/x-www-form-urlencoded.');
  });

  it('accepts the form type with parameters and in any case', async () => {
    expect(await formOf('token=t', { 'content-type': 'Application/X-WWW-Form-URLEncoded; charset=UTF-8' })).toEqual({ token: 't' });
  });

  it.each(['token', 'client_secret', 'refresh_token', 'code_verifier'])('refuses %s in the URL query', async (name) => {
    const req = fakeRequest({ url: `/oauth2/revoke?${name}=x`, query: { [name]: 'x' } });
    expect(await refusal(() => readOAuthForm(req))).toBe(`400 invalid_request: Send ${name} in the form-encoded request body, not in the URL.`);
  });

  it("reads what the host app's body parser produced: repeated values as arrays are refused, nested values too", async () => {
    const parsed = (body: unknown) => readOAuthForm(fakeRequest({ body }));
    expect({ ...parsed({ token: 'a', scope: ['', 'openid'] }) }).toEqual({ token: 'a', scope: 'openid' });
    expect(await refusal(() => parsed({ token: ['a', 'b'] }))).toBe('400 invalid_request: The parameter token was sent more than once.');
    expect(await refusal(() => parsed({ token: { nested: 'x' } }))).toBe('400 invalid_request: The parameter token must be a plain value.');
  });

  it('returns the same frozen form on every read of one request', async () => {
    const req = fakeRequest({ body: { token: 'a' } });
    const first = readOAuthForm(req);
    expect(readOAuthForm(req)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });
});
