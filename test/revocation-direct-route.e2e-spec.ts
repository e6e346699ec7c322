import { request as httpRequest } from 'node:http';
import fc from 'fast-check';
import { Logger } from '@nestjs/common';
import { AuthFailureLimiter } from '../src/clients/auth-failure-limiter';
import { OAuthExceptionFilter } from '../src/http/oauth-exception.filter';
import { RevocationDirectRoute } from '../src/revocation/revocation-direct-route';
import { basic, Fixtures } from './support/fixtures';
import { startTestServer, TestServer } from './support/test-app';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** What one side of a comparison has: its own clients and logins, so both start from the same state. */
interface Side {
  confidential: { client_id: string; client_secret: string };
  other: { client_id: string; client_secret: string };
  publicClient: string;
  own: { access_token: string; refresh_token: string; grant_id: string };
  foreign: { access_token: string; refresh_token: string; grant_id: string };
}

/** A request in terms of a side's fixtures: the same shape sent to both routes. */
interface Shape {
  auth: 'none' | 'basic' | 'basic-wrong' | 'basic-malformed' | 'bearer' | 'post' | 'post-wrong' | 'public';
  token: 'own-access' | 'own-refresh' | 'foreign-access' | 'unknown' | 'none' | 'empty' | 'twice' | 'long';
  hint?: string;
  contentType: string;
  origin?: string;
  extra?: string;
}

describe('POST /oauth2/revoke answered ahead of Express (RevocationDirectRoute)', () => {
  let server: TestServer;
  let fx: Fixtures;
  let port: number;
  let expressHandled: jest.SpyInstance;

  beforeAll(async () => {
    // Failed authentications are compared too: the address limit is raised so that the spec never reaches it.
    server = await startTestServer({ CORS_ORIGINS: 'https://app.example.org', AUTH_FAILURES_PER_ADDRESS: '100000' });
    fx = new Fixtures(server.app, server.pool);
    port = Number(new URL(server.url).port);
    // The app's Express instance handles what the direct route leaves to it.
    const express = server.app.getHttpAdapter().getInstance() as { handle: (...args: unknown[]) => unknown };
    expressHandled = jest.spyOn(express, 'handle');
  });
  afterAll(() => server.close());

  function send(path: string, headers: Record<string, string>, body: string): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const { date: _date, ...rest } = res.headers;
          resolve({ status: res.statusCode!, headers: rest, body: Buffer.concat(chunks).toString('utf8') });
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  async function side(): Promise<Side> {
    const confidential = (await fx.client('client_secret_basic')) as Side['confidential'];
    const other = (await fx.client('client_secret_post')) as Side['other'];
    const publicClient = (await fx.client('none')).client_id;
    return { confidential, other, publicClient, own: await fx.login(confidential.client_id), foreign: await fx.login(other.client_id) };
  }

  function requestOf(shape: Shape, s: Side): { headers: Record<string, string>; body: string } {
    const headers: Record<string, string> = { 'content-type': shape.contentType };
    if (shape.origin) headers.origin = shape.origin;
    const params: string[] = [];
    const token = {
      'own-access': s.own.access_token,
      'own-refresh': s.own.refresh_token,
      'foreign-access': s.foreign.access_token,
      unknown: 'oat_nosuchtoken',
      none: undefined,
      empty: '',
      twice: s.own.access_token,
      long: 'x'.repeat(5000),
    }[shape.token];
    if (token !== undefined) params.push(`token=${encodeURIComponent(token)}`);
    if (shape.token === 'twice') params.push(`token=${encodeURIComponent(s.foreign.access_token)}`);
    if (shape.hint !== undefined) params.push(`token_type_hint=${encodeURIComponent(shape.hint)}`);
    switch (shape.auth) {
      case 'basic':
        headers.authorization = basic(s.confidential.client_id, s.confidential.client_secret);
        break;
      case 'basic-wrong':
        headers.authorization = basic(s.confidential.client_id, 'wrong');
        break;
      case 'basic-malformed':
        headers.authorization = 'Basic !!!';
        break;
      case 'bearer':
        headers.authorization = `Bearer ${s.own.access_token}`;
        break;
      case 'post':
        params.push(`client_id=${encodeURIComponent(s.other.client_id)}`, `client_secret=${encodeURIComponent(s.other.client_secret)}`);
        break;
      case 'post-wrong':
        params.push(`client_id=${encodeURIComponent(s.other.client_id)}`, 'client_secret=wrong');
        break;
      case 'public':
        params.push(`client_id=${encodeURIComponent(s.publicClient)}`);
        break;
    }
    if (shape.extra) params.push(shape.extra);
    return { headers, body: params.join('&') };
  }

  /** The shape sent ahead of Express on one side and through the app's route on the other; answers and database effects compared. */
  async function compare(shape: Shape): Promise<Answer> {
    const [direct, routed] = [await side(), await side()];
    const a = requestOf(shape, direct);
    const b = requestOf(shape, routed);
    const calls = expressHandled.mock.calls.length;
    const viaDirect = await send('/oauth2/revoke', a.headers, a.body);
    expect(expressHandled.mock.calls.length).toBe(calls); // Express never saw it
    // A query string (empty here) is left to the app: the route as Nest serves it.
    const viaApp = await send('/oauth2/revoke?', b.headers, b.body);
    expect(expressHandled.mock.calls.length).toBe(calls + 1);
    // Each side's client ids, as roles: the two sides differ only in them.
    const roles = (s: Side) => (value: unknown) =>
      JSON.parse(JSON.stringify(value).replaceAll(s.confidential.client_id, 'C').replaceAll(s.other.client_id, 'O').replaceAll(s.publicClient, 'P'));
    expect(roles(direct)(viaDirect)).toEqual(roles(routed)(viaApp));
    for (const grant of ['own', 'foreign'] as const) {
      expect(await fx.grantState(direct[grant].grant_id)).toEqual(await fx.grantState(routed[grant].grant_id));
      expect(roles(direct)(await fx.auditRows(direct[grant].grant_id))).toEqual(roles(routed)(await fx.auditRows(routed[grant].grant_id)));
    }
    return viaDirect;
  }

  const form = 'application/x-www-form-urlencoded';

  it.each<[string, Shape, number]>([
    ['a client revoking its own refresh token', { auth: 'basic', token: 'own-refresh', contentType: form }, 200],
    ['an anonymous request', { auth: 'none', token: 'own-access', contentType: form }, 200],
    ['a public client', { auth: 'public', token: 'own-access', contentType: `${form}; charset=UTF-8` }, 200],
    ['another client (client_secret_post) revoking a foreign token', { auth: 'post', token: 'own-access', contentType: form }, 200],
    ['an unknown token', { auth: 'basic', token: 'unknown', hint: 'refresh_token', contentType: form }, 200],
    ['a wrong secret in the header', { auth: 'basic-wrong', token: 'own-access', contentType: form }, 401],
    ['a wrong secret in the body', { auth: 'post-wrong', token: 'own-access', contentType: form }, 401],
    ['a malformed Basic header', { auth: 'basic-malformed', token: 'own-access', contentType: form }, 401],
    ['a Bearer header', { auth: 'bearer', token: 'own-access', contentType: form }, 400],
    ['no token', { auth: 'basic', token: 'none', contentType: form }, 400],
    ['an empty token', { auth: 'basic', token: 'empty', contentType: form }, 400],
    ['a token sent twice', { auth: 'basic', token: 'twice', contentType: form }, 400],
    ['a token longer than any issued', { auth: 'basic', token: 'long', contentType: form }, 400],
    ['credentials in the header and the body', { auth: 'basic', token: 'own-access', contentType: form, extra: 'client_secret=x' }, 400],
    ['an allowed browser origin', { auth: 'public', token: 'own-access', contentType: form, origin: 'https://app.example.org' }, 200],
    ['another origin', { auth: 'public', token: 'own-access', contentType: form, origin: 'https://evil.example' }, 200],
  ])('answers %s as the app route does', async (_name, shape, status) => {
    expect((await compare(shape)).status).toBe(status);
  });

  it('answers a body over the limit as the app route does (413, connection closed)', async () => {
    const shape: Shape = { auth: 'basic', token: 'own-access', contentType: form, extra: `pad=${'a'.repeat(17 * 1024)}` };
    const answer = await compare(shape);
    expect([answer.status, answer.headers.connection]).toEqual([413, 'close']);
  });

  it('answers any mix of parameters and credentials as the app route does (property)', async () => {
    const shape = fc.record<Shape>(
      {
        auth: fc.constantFrom('none', 'basic', 'basic-wrong', 'basic-malformed', 'bearer', 'post', 'post-wrong', 'public'),
        token: fc.constantFrom('own-access', 'own-refresh', 'foreign-access', 'unknown', 'none', 'empty', 'twice', 'long'),
        hint: fc.option(fc.constantFrom('access_token', 'refresh_token', 'junk', ''), { nil: undefined }),
        contentType: fc.constantFrom(form, `${form};charset=utf-8`, 'APPLICATION/X-WWW-FORM-URLENCODED'),
        origin: fc.option(fc.constantFrom('https://app.example.org', 'null'), { nil: undefined }),
        extra: fc.option(fc.constantFrom('client_id=', 'unknown_param=1', 'token_type_hint=a&token_type_hint=b', '%zz=1'), { nil: undefined }),
      },
      { requiredKeys: ['auth', 'token', 'contentType'] },
    );
    await fc.assert(fc.asyncProperty(shape, async (s) => void (await compare(s))), { numRuns: 40 });
  });

  it.each([
    ['without a trusted proxy: the peer address, whatever X-Forwarded-For says', {}, '127.0.0.1'],
    ['behind one trusted proxy (TRUST_PROXY=1): the address it forwarded', { TRUST_PROXY: '1' }, '203.0.113.7'],
  ])('counts failed authentications by the address Express would give, %s', async (_name, env, expected) => {
    const proxied = Object.keys(env).length > 0 ? await startTestServer(env) : server;
    const begin = jest.spyOn(AuthFailureLimiter.prototype, 'begin');
    try {
      const client = await new Fixtures(proxied.app, proxied.pool).client('client_secret_basic');
      const headers = { 'content-type': form, authorization: basic(client.client_id, 'wrong'), 'x-forwarded-for': '203.0.113.7' };
      const at = Number(new URL(proxied.url).port);
      const post = (path: string) =>
        new Promise<number>((resolve, reject) =>
          httpRequest({ host: '127.0.0.1', port: at, path, method: 'POST', headers }, (res) => resolve(res.resume().statusCode!)).on('error', reject).end('token=x'),
        );
      expect([await post('/oauth2/revoke'), await post('/oauth2/revoke?')]).toEqual([401, 401]);
      expect(begin.mock.calls.map(([, address]) => address?.replace(/^::ffff:/, ''))).toEqual([expected, expected]);
    } finally {
      begin.mockRestore();
      if (proxied !== server) await proxied.close();
    }
  });

  it('serves the route under the issuer path, as the app does', async () => {
    const tenant = await startTestServer({ ISSUER: 'http://localhost:3000/tenant1' });
    const handled = jest.spyOn(tenant.app.getHttpAdapter().getInstance() as { handle: (...args: unknown[]) => unknown }, 'handle');
    try {
      const at = Number(new URL(tenant.url).port);
      const post = (path: string) =>
        new Promise<number>((resolve, reject) =>
          httpRequest({ host: '127.0.0.1', port: at, path, method: 'POST', headers: { 'content-type': form } }, (res) => resolve(res.resume().statusCode!)).on('error', reject).end('token=x'),
        );
      expect(await post('/tenant1/oauth2/revoke')).toBe(200);
      expect(handled).not.toHaveBeenCalled();
      expect(await post('/oauth2/revoke')).toBe(404); // the app's answer: no such route without the issuer path
      expect(handled).toHaveBeenCalledTimes(1);
    } finally {
      await tenant.close();
    }
  });

  it('answers 500 server_error, and stays up, when even the error answer fails', async () => {
    const failing = jest.spyOn(OAuthExceptionFilter.prototype, 'catch').mockImplementationOnce(() => {
      throw new Error('filter broke');
    });
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      const answer = await send('/oauth2/revoke', { 'content-type': form }, 'token_type_hint=x');
      expect([answer.status, JSON.parse(answer.body).error, answer.headers['cache-control']]).toEqual([500, 'server_error', 'no-store']);
      expect(logged.mock.calls.map(([message]) => String(message))).toEqual([expect.stringContaining('filter broke')]);
      expect((await send('/oauth2/revoke', { 'content-type': form }, 'token=x')).status).toBe(200);
    } finally {
      failing.mockRestore();
      logged.mockRestore();
    }
  });

  it('refuses to be installed twice (the server installed it at startup)', () => {
    expect(() => server.app.get(RevocationDirectRoute).install()).toThrow('RevocationDirectRoute.install() was called twice');
  });

  it('leaves other methods, content types and paths to the app', async () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'PUT']) {
      const calls = expressHandled.mock.calls.length;
      const status = await new Promise<number>((resolve, reject) =>
        httpRequest({ host: '127.0.0.1', port, path: '/oauth2/revoke', method, headers: { 'content-type': form, origin: 'https://app.example.org' } }, (res) => resolve(res.resume().statusCode!))
          .on('error', reject)
          .end(),
      );
      expect([method, status]).toEqual([method, method === 'OPTIONS' ? 204 : 405]);
      expect(expressHandled.mock.calls.length).toBe(calls + 1);
    }
    const calls = expressHandled.mock.calls.length;
    const json = await send('/oauth2/revoke', { 'content-type': 'application/json' }, '{"token":"x"}');
    expect([json.status, JSON.parse(json.body).error]).toEqual([400, 'invalid_request']);
    const other = await send('/oauth2/revoke/', { 'content-type': form }, 'token=x');
    expect(other.status).toBe(200); // Express's router is not strict about a trailing slash
    expect(expressHandled.mock.calls.length).toBe(calls + 2);
  });
});
