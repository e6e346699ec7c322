import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import * as oauth from 'oauth4webapi';
import request from 'supertest';
import type { CreatedClient } from '../src/clients/clients.service';
import { Fixtures } from './support/fixtures';
import { startTestServer, TestServer } from './support/test-app';
import { OAuthCalls, TokenRows } from './support/token-fixtures';

/**
 * The Matrix client-server API's logout, end to end over HTTP: a client logs in, refreshes, a homeserver
 * (resource server) introspects, the client logs out by revoking its access token, and from then on
 * nothing of that session works anywhere.
 */
describe('the Matrix logout story', () => {
  let server: TestServer;
  let fx: Fixtures;
  let calls: OAuthCalls;
  let db: TokenRows;
  let element: CreatedClient; // a public Matrix client
  let homeserver: CreatedClient; // the resource server

  beforeAll(async () => {
    server = await startTestServer();
    fx = new Fixtures(server.app, server.pool);
    calls = new OAuthCalls(request(server.app.getHttpServer()));
    db = new TokenRows(server.pool);
    element = await fx.client('none');
    homeserver = await fx.client('client_secret_basic');
  });
  afterAll(() => server.close());

  it('issue a pair, refresh twice, introspect active, revoke the access token: every token of the grant is dead', async () => {
    const login = await fx.login(element.client_id, '@alice:example.org');
    const seen = [login.access_token, login.refresh_token];

    let current = { access_token: login.access_token, refresh_token: login.refresh_token };
    for (let i = 0; i < 2; i++) {
      const res = await calls.refresh(current.refresh_token, element);
      expect(res.status).toBe(200);
      current = res.body;
      seen.push(current.access_token, current.refresh_token);
    }

    const active = await calls.introspect(current.access_token, homeserver);
    expect(active.body).toMatchObject({ active: true, sub: '@alice:example.org', client_id: element.client_id, grant_id: login.grant_id });

    // Logout: the client revokes its current access token (RFC 7009; Matrix revokes the whole session).
    const logout = await calls.revoke(current.access_token, element);
    expect(logout.status).toBe(200);

    const refresh = await calls.refresh(current.refresh_token, element);
    expect(refresh.status).toBe(400);
    expect(refresh.body.error).toBe('invalid_grant');

    const states = await Promise.all(seen.map((token) => calls.introspect(token, homeserver)));
    expect(states.map((s) => s.text)).toEqual(seen.map(() => '{"active":false}'));

    expect(await db.grant(login.grant_id)).toMatchObject({ revoked: true, revocation_reason: 'client_request' });
    expect(await db.counts(login.grant_id)).toEqual({ access: 3, refresh: 3, audit: 1 });
    const { rows } = await server.pool.query(
      `SELECT (SELECT count(*)::int FROM access_tokens WHERE grant_id = $1 AND revoked_at IS NULL)
            + (SELECT count(*)::int FROM refresh_tokens WHERE grant_id = $1 AND revoked_at IS NULL) AS unrevoked`,
      [login.grant_id],
    );
    expect(rows[0].unrevoked).toBe(0);
  });
});

/** A port nobody listens on right now, so that the issuer can name the server's own address. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('the Matrix logout story, told by oauth4webapi from the discovered metadata', () => {
  let server: TestServer;
  let fx: Fixtures;
  let issuer: URL;
  // The issuer is this server's loopback address, which the server allows over plain http.
  const insecure = { [oauth.allowInsecureRequests]: true };

  beforeAll(async () => {
    const port = await freePort();
    issuer = new URL(`http://127.0.0.1:${port}`);
    server = await startTestServer({ PORT: String(port), ISSUER: issuer.origin });
    fx = new Fixtures(server.app, server.pool);
  });
  afterAll(() => server.close());

  it('discovers the endpoints, refreshes twice, introspects, logs out, and finds every token of the session dead', async () => {
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
    expect(as).toMatchObject({
      token_endpoint: `${issuer.origin}/oauth2/token`,
      introspection_endpoint: `${issuer.origin}/oauth2/introspect`,
      revocation_endpoint: `${issuer.origin}/oauth2/revoke`,
      grant_types_supported: expect.arrayContaining(['refresh_token']),
      token_endpoint_auth_methods_supported: expect.arrayContaining(['none']),
      introspection_endpoint_auth_methods_supported: expect.arrayContaining(['client_secret_basic']),
    });

    const element = await fx.client('none');
    const homeserver = await fx.client('client_secret_basic');
    const client: oauth.Client = { client_id: element.client_id };
    const rs: oauth.Client = { client_id: homeserver.client_id };
    const rsAuth = oauth.ClientSecretBasic(homeserver.client_secret!);
    const introspect = async (token: string) =>
      oauth.processIntrospectionResponse(as, rs, await oauth.introspectionRequest(as, rs, rsAuth, token, insecure));

    const login = await fx.login(element.client_id, '@alice:example.org');
    const seen = [login.access_token, login.refresh_token];
    let current: { access_token: string; refresh_token?: string } = login;
    for (let i = 0; i < 2; i++) {
      current = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, oauth.None(), current.refresh_token!, insecure));
      expect(current).toMatchObject({ token_type: 'bearer', expires_in: 3600, refresh_token: expect.stringMatching(/^ort_/) });
      seen.push(current.access_token, current.refresh_token!);
    }

    expect(await introspect(current.access_token)).toMatchObject({ active: true, sub: '@alice:example.org', client_id: element.client_id, token_type: 'Bearer' });

    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, oauth.None(), current.access_token, insecure));

    const refused = await oauth
      .processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, oauth.None(), current.refresh_token!, insecure))
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(refused).toBeInstanceOf(oauth.ResponseBodyError);
    expect(refused).toMatchObject({ error: 'invalid_grant', status: 400 });

    for (const token of seen) expect(await introspect(token)).toEqual({ active: false });
    expect(await new TokenRows(server.pool).grant(login.grant_id)).toMatchObject({ revoked: true, revocation_reason: 'client_request' });
  });
});
