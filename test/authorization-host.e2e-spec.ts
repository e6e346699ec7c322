import type { INestApplication } from '@nestjs/common';
import * as oauth from 'oauth4webapi';
import { ClientsService } from '../src/index';
import { startLoginHost } from './fixtures/login-host';
import { openTestPool, testDatabaseUrl, testPoolSize } from './support/test-database';

const ISSUER = 'http://localhost:3000';
const REDIRECT = 'https://app.example.com/callback';
const insecure = { [oauth.allowInsecureRequests]: true };

/**
 * A host app with its own users plugs its login step into the authorization endpoint, and an unmodified
 * client library (oauth4webapi) runs the whole authorization code flow against it: discovery, PKCE,
 * the authorization response with iss (RFC 9207), the exchange, a refresh and a revocation.
 */
describe('the host hand-off: a host app logs people in its own way', () => {
  let app: INestApplication;
  let base: string;
  const pool = openTestPool();

  beforeAll(async () => {
    app = await startLoginHost(testDatabaseUrl(), testPoolSize());
    const { port } = app.getHttpServer().address() as { port: number };
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await app.close();
    await pool.end();
  });

  /** oauth4webapi's requests go to the app, whatever host the issuer's URLs name. */
  const via = {
    ...insecure,
    [oauth.customFetch]: (url: string, init: RequestInit) => fetch(`${base}${new URL(url).pathname}${new URL(url).search}`, init),
  };

  async function client(): Promise<oauth.Client> {
    const created = await app.get(ClientsService).create({ clientId: `spa-${Date.now()}`, authMethod: 'none', grantTypes: ['authorization_code', 'refresh_token'], redirectUris: [REDIRECT] });
    return { client_id: created.client_id };
  }

  /** Follows the browser from the authorization URL through the host's sign-in (as `user`) to the client's redirect. */
  async function browse(authorizationUrl: URL, user: string | undefined): Promise<URL> {
    const first = await fetch(`${base}${authorizationUrl.pathname}${authorizationUrl.search}`, { redirect: 'manual' });
    expect(first.status).toBe(302);
    const login = new URL(first.headers.get('location')!);
    expect(login.pathname).toBe('/account/sign-in');
    if (user) login.searchParams.set('as', user);
    const second = await fetch(`${base}${login.pathname}${login.search}`, { redirect: 'manual' });
    expect(second.status).toBe(302);
    return new URL(second.headers.get('location')!);
  }

  it('runs oauth4webapi authorization code flow with PKCE, checks iss, refreshes and revokes', async () => {
    const as = await oauth.processDiscoveryResponse(new URL(ISSUER), await oauth.discoveryRequest(new URL(ISSUER), { algorithm: 'oauth2', ...via }));
    expect(as.authorization_response_iss_parameter_supported).toBe(true);
    const c = await client();
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({
      client_id: c.client_id,
      redirect_uri: REDIRECT,
      response_type: 'code',
      scope: 'openid admin',
      state,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    }).toString();
    const callback = await browse(url, 'alice');
    const params = oauth.validateAuthResponse(as, c, callback, state);
    const tokens = await oauth.processAuthorizationCodeResponse(as, c, await oauth.authorizationCodeGrantRequest(as, c, oauth.None(), params, REDIRECT, verifier, via));
    // The host's login narrowed the scope: it dropped `admin`.
    expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'openid', expires_in: 3600 });
    const { rows } = await pool.query(`SELECT g.subject, g.scope FROM grants g JOIN access_tokens a ON a.grant_id = g.id WHERE a.token_hash = sha256($1::bytea)`, [Buffer.from(tokens.access_token)]);
    expect(rows).toEqual([{ subject: '@alice:host.example', scope: 'openid' }]);
    const refreshed = await oauth.processRefreshTokenResponse(as, c, await oauth.refreshTokenGrantRequest(as, c, oauth.None(), tokens.refresh_token!, via));
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, c, oauth.None(), refreshed.access_token, via));
    const after = await oauth.refreshTokenGrantRequest(as, c, oauth.None(), refreshed.refresh_token!, via);
    await expect(oauth.processRefreshTokenResponse(as, c, after)).rejects.toBeInstanceOf(oauth.ResponseBodyError);
  });

  it('rejects a callback whose iss is not the issuer (mix-up defence, RFC 9207)', async () => {
    const as = await oauth.processDiscoveryResponse(new URL(ISSUER), await oauth.discoveryRequest(new URL(ISSUER), { algorithm: 'oauth2', ...via }));
    const c = await client();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({ client_id: c.client_id, redirect_uri: REDIRECT, response_type: 'code', state, code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()), code_challenge_method: 'S256' }).toString();
    const callback = await browse(url, 'bob');
    callback.searchParams.set('iss', 'https://attacker.example');
    expect(() => oauth.validateAuthResponse(as, c, callback, state)).toThrow();
  });

  it("answers access_denied when the host's login refuses", async () => {
    const as = await oauth.processDiscoveryResponse(new URL(ISSUER), await oauth.discoveryRequest(new URL(ISSUER), { algorithm: 'oauth2', ...via }));
    const c = await client();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({ client_id: c.client_id, redirect_uri: REDIRECT, response_type: 'code', state, code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()), code_challenge_method: 'S256' }).toString();
    const callback = await browse(url, undefined);
    expect(() => oauth.validateAuthResponse(as, c, callback, state)).toThrow(oauth.AuthorizationResponseError);
    expect(Object.fromEntries(callback.searchParams)).toMatchObject({ error: 'access_denied', state, iss: ISSUER });
  });
});
