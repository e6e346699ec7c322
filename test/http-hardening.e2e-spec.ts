import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import type { Pool } from 'pg';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { Fixtures } from './support/fixtures';
import { rawRequest } from './support/raw-http';
import { startTestServer, TestServer } from './support/test-app';
import { OAuthCalls } from './support/token-fixtures';

interface EndlessBodyOutcome {
  status: number;
  headers: Record<string, string>;
  /** Bytes of body the client had written when the server closed the connection. */
  written: number;
}

/**
 * Sends `head` with `Transfer-Encoding: chunked`, then body chunks for as long as the connection stays
 * open; resolves once the server has answered and closed it, rejects when it is still open after `boundMs`.
 */
function sendEndlessBody(port: number, head: string, boundMs = 5000): Promise<EndlessBodyOutcome> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    const chunk = `400\r\n${'a'.repeat(1024)}\r\n`;
    let written = 0;
    const pump = setInterval(() => {
      if (!socket.writable) return;
      socket.write(chunk);
      written += 1024;
    }, 2);
    const bound = setTimeout(() => {
      clearInterval(pump);
      socket.destroy();
      reject(new Error(`the server still read the body ${boundMs} ms on (${written} bytes written)`));
    }, boundMs);
    socket.on('data', (d) => received.push(d));
    socket.on('error', () => undefined); // a reset once the server has closed: closed all the same
    socket.on('close', () => {
      clearInterval(pump);
      clearTimeout(bound);
      const text = Buffer.concat(received).toString('latin1');
      const [statusLine, ...lines] = text.slice(0, text.indexOf('\r\n\r\n')).split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine?.split(' ')[1]), headers, written });
    });
    socket.write(`${head}Host: localhost\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}`);
  });
}

describe('HTTP edges of the server', () => {
  let server: TestServer;
  let port: number;
  let fx: Fixtures;
  let calls: OAuthCalls;

  beforeAll(async () => {
    server = await startTestServer({ HTTP_HEADERS_TIMEOUT_MS: '300', HTTP_REQUEST_TIMEOUT_MS: '20000' });
    port = Number(new URL(server.url).port);
    fx = new Fixtures(server.app, server.pool);
    calls = new OAuthCalls(request(server.app.getHttpServer()));
  });
  afterAll(() => server.close());

  describe('an answer sent before the body was read closes the connection and stops reading', () => {
    it.each([
      ['POST /oauth2/token without a form content type', 'POST /oauth2/token HTTP/1.1\r\n', 400],
      ['GET /health with a body', 'GET /health HTTP/1.1\r\n', 200],
      ['GET of the discovery document with a body', 'GET /.well-known/oauth-authorization-server HTTP/1.1\r\n', 200],
    ])('%s', async (_name, head, status) => {
      const outcome = await sendEndlessBody(port, head);
      expect(outcome.status).toBe(status);
      expect(outcome.headers.connection).toBe('close');
    });

    it('keeps the connection of a request whose body was read (no needless close)', async () => {
      const agent = new Agent({ keepAlive: true });
      const res = await new Promise<{ status: number; connection?: string }>((resolve, reject) => {
        const req = httpRequest(`${server.url}/oauth2/revoke`, { method: 'POST', agent, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }, (r) => {
          r.resume();
          r.on('end', () => resolve({ status: r.statusCode!, connection: r.headers.connection }));
        });
        req.on('error', reject);
        req.end('token=x');
      });
      agent.destroy();
      expect(res).toEqual({ status: 200, connection: 'keep-alive' });
    });
  });

  it('answers 408 (RFC 9110 §15.5.9), not 400, when the headers do not arrive in time', async () => {
    const res = await rawRequest(port, Buffer.from('POST /oauth2/revoke HTTP/1.1\r\nHost: localhost\r\nContent-Type: applic'), 5000);
    expect(res.status).toBe(408);
    expect(res.headers.connection).toBe('close');
    expect(JSON.parse(res.body.toString())).toEqual({ error: 'invalid_request', error_description: expect.stringMatching(/in time/) });
  });

  it('answers an unknown route 404 without echoing its URL or query', async () => {
    const token = 'oat_' + 'S'.repeat(32);
    const res = await request(server.url).get(`/no/such/route?token=${token}`);
    expect(res.status).toBe(404);
    expect(res.text).not.toContain(token);
    expect(res.text).not.toContain('/no/such/route');
    expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: expect.any(String) });
  });

  it('sends no ETag on OAuth endpoint answers (no-store)', async () => {
    const rs = await fx.client('client_secret_basic');
    const login = await fx.login(rs.client_id);
    const introspected = await calls.introspect(login.access_token, rs);
    expect(introspected.status).toBe(200);
    expect(introspected.headers.etag).toBeUndefined();
    const issued = await calls.clientCredentials(rs);
    expect(issued.status).toBe(200);
    expect(issued.headers.etag).toBeUndefined();
    const refused = await request(server.url).get('/oauth2/token');
    expect(refused.status).toBe(405);
    expect(refused.headers.etag).toBeUndefined();
  });

  it.each(['/oauth2/revoke', '/oauth2/token', '/oauth2/introspect'])('refuses access_token in the query of %s, as other credentials, and revokes nothing', async (path) => {
    const app = await fx.client('none');
    const login = await fx.login(app.client_id);
    const res = await request(server.url).post(`${path}?access_token=${login.access_token}`).type('form').send(`token=${login.access_token}&client_id=${app.client_id}`);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_request', error_description: expect.stringContaining('access_token') });
    expect(await fx.grantState(login.grant_id)).toMatchObject({ grantRevoked: false, liveAccess: 1 });
  });
});

describe('startup', () => {
  it('decides whether statements are named before the first request, which then sends only its own statements', async () => {
    const server = await startTestServer();
    try {
      const fx = new Fixtures(server.app, server.pool);
      const c = await fx.client('client_secret_basic');
      const login = await fx.login(c.client_id);
      const pool = (server.app.get(DataSource).driver as unknown as { master: Pool }).master;
      const sent: string[] = [];
      const query = pool.query.bind(pool);
      jest.spyOn(pool, 'query').mockImplementation(((config: string | { text: string }, ...rest: unknown[]) => {
        sent.push(typeof config === 'string' ? config : config.text);
        return (query as (...a: unknown[]) => unknown)(config, ...rest);
      }) as never);
      const res = await new OAuthCalls(request(server.app.getHttpServer())).revoke(login.access_token, c);
      expect(res.status).toBe(200);
      expect(sent.some((q) => /version\(\)/.test(q))).toBe(false);
      expect(await fx.grantState(login.grant_id)).toMatchObject({ grantRevoked: true });
    } finally {
      await server.close();
    }
  });
});
