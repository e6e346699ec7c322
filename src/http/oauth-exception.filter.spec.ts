import { ArgumentsHost, HttpException, Logger, NotFoundException, PayloadTooLargeException } from '@nestjs/common';
import { OAuthException } from './oauth.exception';
import { OAuthExceptionFilter } from './oauth-exception.filter';

/** What the filter wrote: status, headers and JSON body. */
function render(exception: unknown, headersSent = false): { status?: number; headers: Record<string, string>; body?: unknown } {
  const out: { status?: number; headers: Record<string, string>; body?: unknown } = { headers: {} };
  const res = {
    headersSent,
    setHeader: (name: string, value: string) => void (out.headers[name] = value),
    status(code: number) {
      out.status = code;
      return this;
    },
    json: (body: unknown) => void (out.body = body),
  };
  const host = { switchToHttp: () => ({ getResponse: () => res }) } as unknown as ArgumentsHost;
  new OAuthExceptionFilter().catch(exception, host);
  return out;
}

describe('OAuthExceptionFilter (RFC 6749 §5.2 bodies)', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['error', 'warn', 'log']));

  it('renders an OAuthException as {error, error_description} with its status and headers', () => {
    const out = render(OAuthException.invalidClient('Client authentication failed.', 'Basic realm="x"'));
    expect(out).toEqual({ status: 401, headers: { 'WWW-Authenticate': 'Basic realm="x"' }, body: { error: 'invalid_client', error_description: 'Client authentication failed.' } });
  });

  it("turns Nest's 4xx exceptions into invalid_request with their message, 413 kept", () => {
    expect(render(new NotFoundException('Nothing here'))).toMatchObject({ status: 404, body: { error: 'invalid_request', error_description: 'Nothing here' } });
    expect(render(new PayloadTooLargeException())).toMatchObject({ status: 413, body: { error: 'invalid_request', error_description: 'The request body is too large.' } });
    expect(render(new HttpException({ message: ['a is bad', 'b is bad'] }, 422))).toMatchObject({ status: 422, body: { error_description: 'a is bad; b is bad' } });
  });

  it('answers 503 temporarily_unavailable with Retry-After when the database cannot be reached', () => {
    const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(render(err)).toEqual({ status: 503, headers: { 'Retry-After': '5' }, body: { error: 'temporarily_unavailable', error_description: 'The authorization server cannot reach its database; retry later.' } });
  });

  it('answers anything else as 500 server_error without the message or stack', () => {
    const out = render(new Error('column "secret" of relation "clients" does not exist'));
    expect(out).toEqual({ status: 500, headers: {}, body: { error: 'server_error', error_description: 'The authorization server met an unexpected condition.' } });
  });

  it('writes nothing when the response has already started', () => {
    expect(render(OAuthException.invalidRequest('late'), true)).toEqual({ headers: {} });
  });
});
