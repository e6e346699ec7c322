import request from 'supertest';
import { AuthorizationService } from '../src/authorization/authorization.service';
import { AuthorizationRequestError } from '../src/authorization/authorization-request.error';
import type { CreatedClient } from '../src/clients/clients.service';
import { RevocationEvents } from '../src/core/revocation-events';
import type { RevocationEvent } from '../src/core/revocation-event';
import { hashToken } from '../src/grants/token-format';
import { authorizationParams, authorize, codeClient, pendingId, pkce, REDIRECT, responseParams } from './support/authorization-fixtures';
import { Fixtures } from './support/fixtures';
import { waitFor } from './support/processes';
import { startTestServer, TestServer } from './support/test-app';
import { OAuthCalls } from './support/token-fixtures';

const ISSUER = 'http://localhost:3000';

describe('GET|POST /oauth2/authorize and the authorization_code grant (RFC 6749 §4.1, RFC 7636, RFC 9207)', () => {
  let server: TestServer;
  let http: ReturnType<typeof request>;
  let calls: OAuthCalls;
  let fx: Fixtures;
  let service: AuthorizationService;
  let app: CreatedClient;

  beforeAll(async () => {
    server = await startTestServer();
    http = request(server.app.getHttpServer());
    calls = new OAuthCalls(http);
    fx = new Fixtures(server.app, server.pool);
    service = server.app.get(AuthorizationService);
    app = await codeClient(server.app);
  });
  afterAll(() => server.close());

  /** Authorizes, completes as `subject` through the host hand-off, and answers the redirect's parameters. */
  async function codeFor(client: CreatedClient, challenge: string, subject = '@alice:example.org', overrides: Record<string, string | undefined> = {}) {
    const params = authorizationParams(client, challenge, overrides);
    const started = await authorize(http, params);
    expect(started.status).toBe(302);
    const location = await service.complete(pendingId(started.headers.location), { subject });
    return { params, location, response: responseParams(location, (overrides.response_mode as 'fragment' | undefined) ?? 'query') };
  }

  const exchange = (client: CreatedClient, code: string, verifier: string, redirectUri = client.redirect_uris![0]) =>
    calls.post('/oauth2/token', { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier }, client);

  describe('before anything is redirected: the client and its exact redirect URI', () => {
    it.each([
      ['an unknown client', { client_id: 'no-such-client' }],
      ['no client_id', { client_id: undefined }],
      ['an unregistered redirect URI', { redirect_uri: 'https://evil.example.net/callback' }],
      ['a redirect URI that only starts like the registered one', { redirect_uri: `${REDIRECT}/../x` }],
      ['a registered redirect URI with a query added', { redirect_uri: `${REDIRECT}?next=https://evil.example.net` }],
      ['no redirect_uri', { redirect_uri: undefined }],
    ])('answers %s with an HTML error page (400), never a redirect', async (_name, overrides) => {
      const res = await authorize(http, authorizationParams(app, pkce().challenge, overrides));
      expect(res.status).toBe(400);
      expect(res.headers.location).toBeUndefined();
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(res.text).toContain('<h1>This sign-in request cannot be completed</h1>');
    });

    it('answers a disabled client with the error page', async () => {
      const off = await codeClient(server.app);
      await server.pool.query('UPDATE clients SET disabled_at = now() WHERE client_id = $1', [off.client_id]);
      expect((await authorize(http, authorizationParams(off, pkce().challenge))).status).toBe(400);
    });

    it('answers a NUL character anywhere with the error page, never a 500', async () => {
      const res = await http.get(`/oauth2/authorize?${new URLSearchParams(authorizationParams(app, pkce().challenge))}&state=%00`).redirects(0);
      expect(res.status).toBe(400);
      expect(res.headers.location).toBeUndefined();
      const token = await calls.post('/oauth2/token', { grant_type: 'authorization_code', code: 'x', redirect_uri: 'https://a\u0000b', code_verifier: pkce().verifier }, app);
      expect(token.status).toBe(400);
      expect(token.body.error).toBe('invalid_grant');
    });

    it('escapes what it shows', async () => {
      const res = await authorize(http, authorizationParams(app, pkce().challenge, { client_id: '<script>alert(1)</script>' }));
      expect(res.text).not.toContain('<script>');
    });
  });

  describe('errors go back to the client, with state and iss', () => {
    it.each([
      ['no code_challenge (PKCE is required for every client)', { code_challenge: undefined }, 'invalid_request'],
      ['code_challenge_method plain', { code_challenge_method: 'plain' }, 'invalid_request'],
      ['no code_challenge_method (it would default to plain)', { code_challenge_method: undefined }, 'invalid_request'],
      ['a code_challenge too short', { code_challenge: 'abc' }, 'invalid_request'],
      ['no response_type', { response_type: undefined }, 'invalid_request'],
      ['response_type token', { response_type: 'token' }, 'unsupported_response_type'],
      ['a malformed scope', { scope: 'openid  profile' }, 'invalid_scope'],
      ['an unknown prompt value', { prompt: 'select_account' }, 'invalid_request'],
      ['prompt none with another value', { prompt: 'none login' }, 'invalid_request'],
    ])('%s → %s', async (_name, overrides, error) => {
      const params = authorizationParams(app, pkce().challenge, overrides);
      const res = await authorize(http, params);
      expect(res.status).toBe(302);
      expect(res.headers.location.startsWith(`${REDIRECT}?`)).toBe(true);
      const back = responseParams(res.headers.location);
      expect(back).toMatchObject({ error, state: params.state, iss: ISSUER });
      expect(back.error_description).toEqual(expect.any(String));
      expect(back.code).toBeUndefined();
    });

    it('refuses a parameter sent twice', async () => {
      const params = new URLSearchParams(authorizationParams(app, pkce().challenge));
      params.append('scope', 'admin');
      const res = await http.get(`/oauth2/authorize?${params}`).redirects(0);
      expect(responseParams(res.headers.location)).toMatchObject({ error: 'invalid_request', error_description: 'The parameter scope was sent more than once.' });
    });

    it('answers unauthorized_client to a client not registered for the code grant', async () => {
      const other = await server.app.get((await import('../src/clients/clients.service')).ClientsService).create({
        clientId: `rt-only-${Date.now()}`,
        authMethod: 'none',
        grantTypes: ['refresh_token'],
        redirectUris: [REDIRECT],
      });
      const res = await authorize(http, authorizationParams(other, pkce().challenge));
      expect(responseParams(res.headers.location).error).toBe('unauthorized_client');
    });

    it('puts errors in the fragment when the client asked for response_mode=fragment', async () => {
      const res = await authorize(http, authorizationParams(app, pkce().challenge, { response_mode: 'fragment', response_type: 'token' }));
      const url = new URL(res.headers.location);
      expect(url.search).toBe('');
      expect(responseParams(res.headers.location, 'fragment')).toMatchObject({ error: 'unsupported_response_type', iss: ISSUER });
    });

    it('answers access_denied when the login step says no, once', async () => {
      const params = authorizationParams(app, pkce().challenge);
      const started = await authorize(http, params);
      const id = pendingId(started.headers.location);
      expect(responseParams(await service.deny(id))).toMatchObject({ error: 'access_denied', state: params.state, iss: ISSUER });
      await expect(service.deny(id)).rejects.toBeInstanceOf(AuthorizationRequestError);
      await expect(service.complete(id, { subject: 'x' })).rejects.toBeInstanceOf(AuthorizationRequestError);
    });
  });

  describe('success', () => {
    it('sends the browser to the login step with a pending request, stored server-side', async () => {
      const params = authorizationParams(app, pkce().challenge, { prompt: 'login' });
      const res = await authorize(http, params);
      expect(res.status).toBe(302);
      const location = new URL(res.headers.location);
      expect(`${location.origin}${location.pathname}`).toBe(`${ISSUER}/login`);
      const pending = await service.getPending(pendingId(res.headers.location));
      expect(pending).toMatchObject({ clientId: app.client_id, scope: ['openid', 'urn:matrix:client:api:*'], prompt: ['login'], redirectUri: REDIRECT });
      expect(await service.getPending('not-a-uuid')).toBeNull();
    });

    it('accepts the request as a POST form too (RFC 6749 §3.1)', async () => {
      const res = await http.post('/oauth2/authorize').type('form').send(new URLSearchParams(authorizationParams(app, pkce().challenge)).toString()).redirects(0);
      expect(res.status).toBe(302);
      expect(await service.getPending(pendingId(res.headers.location))).not.toBeNull();
    });

    it('redirects with code, the exact state and iss; the code is stored only as its hash, bound to client, redirect URI and challenge', async () => {
      const { challenge } = pkce();
      const { params, location, response } = await codeFor(app, challenge);
      expect(location.startsWith(`${REDIRECT}?`)).toBe(true);
      expect(response).toEqual({ code: expect.any(String), state: params.state, iss: ISSUER });
      const { rows } = await server.pool.query(
        `SELECT c.redirect_uri, c.code_challenge, c.expires_at - c.created_at AS ttl, g.client_id, g.subject, g.scope
         FROM authorization_codes c JOIN grants g ON g.id = c.grant_id WHERE c.code_hash = $1`,
        [hashToken(response.code)],
      );
      expect(rows).toEqual([{ redirect_uri: REDIRECT, code_challenge: challenge, ttl: expect.anything(), client_id: app.client_id, subject: '@alice:example.org', scope: 'openid urn:matrix:client:api:*' }]);
      const plain = await server.pool.query(`SELECT count(*)::int AS n FROM authorization_codes WHERE encode(code_hash, 'escape') LIKE '%' || $1 || '%'`, [response.code]);
      expect(plain.rows[0].n).toBe(0);
    });

    it('puts the code in the fragment for response_mode=fragment', async () => {
      const { location, response } = await codeFor(app, pkce().challenge, '@bob:example.org', { response_mode: 'fragment' });
      expect(new URL(location).search).toBe('');
      expect(response.code).toEqual(expect.any(String));
    });

    it('exchanges the code with its verifier for a pair in the new grant, which refreshes and revokes like any other', async () => {
      const { verifier, challenge } = pkce();
      const { response } = await codeFor(app, challenge);
      const res = await exchange(app, response.code, verifier);
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({ access_token: expect.stringMatching(/^oat_/), refresh_token: expect.stringMatching(/^ort_/), token_type: 'Bearer', expires_in: 3600, scope: 'openid urn:matrix:client:api:*' });
      const refreshed = await calls.refresh(res.body.refresh_token, app);
      expect(refreshed.status).toBe(200);
      expect((await calls.revoke(refreshed.body.access_token, app)).status).toBe(200);
      const { rows } = await server.pool.query('SELECT grant_id FROM access_tokens WHERE token_hash = $1', [hashToken(res.body.access_token)]);
      expect(await fx.grantState(rows[0].grant_id)).toMatchObject({ grantRevoked: true, liveAccess: 0, liveRefresh: 0 });
    });

    it('accepts any port on a loopback redirect URI registered without one (RFC 8252 §7.3), and only there', async () => {
      const native = await codeClient(server.app, 'none', ['http://127.0.0.1/callback']);
      const { verifier, challenge } = pkce();
      const { response } = await codeFor(native, challenge, '@carol:example.org', { redirect_uri: 'http://127.0.0.1:53123/callback' });
      expect((await exchange(native, response.code, verifier, 'http://127.0.0.1:53123/callback')).status).toBe(200);
      const elsewhere = await authorize(http, authorizationParams(native, challenge, { redirect_uri: 'http://127.0.0.1:53123/other' }));
      expect(elsewhere.status).toBe(400);
      const ported = await codeClient(server.app, 'none', ['http://127.0.0.1:8080/callback']);
      expect((await authorize(http, authorizationParams(ported, challenge, { redirect_uri: 'http://127.0.0.1:9090/callback' }))).status).toBe(400);
    });
  });

  describe('the exchange: every failure is invalid_grant', () => {
    it.each([
      ['a wrong verifier', (c: { verifier: string }) => ({ code_verifier: pkce().verifier })],
      ['a malformed verifier', () => ({ code_verifier: 'short' })],
      ['another redirect URI', () => ({ redirect_uri: 'https://app.example.com/other' })],
      ['an unknown code', () => ({ code: 'x'.repeat(43) })],
    ])('refuses %s, and the code stays usable by its owner', async (_name, change) => {
      const pair = pkce();
      const { response } = await codeFor(app, pair.challenge);
      const params = { grant_type: 'authorization_code', code: response.code, redirect_uri: REDIRECT, code_verifier: pair.verifier, ...change(pair) };
      const res = await calls.post('/oauth2/token', params, app);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_grant');
      expect((await exchange(app, response.code, pair.verifier)).status).toBe(200);
    });

    it("refuses another client's code without revoking anything", async () => {
      const other = await codeClient(server.app);
      const pair = pkce();
      const { response } = await codeFor(app, pair.challenge);
      expect((await exchange(other, response.code, pair.verifier, REDIRECT)).body.error).toBe('invalid_grant');
      expect((await exchange(app, response.code, pair.verifier)).status).toBe(200);
    });

    it('refuses an expired code', async () => {
      const pair = pkce();
      const { response } = await codeFor(app, pair.challenge);
      await server.pool.query(`UPDATE authorization_codes SET expires_at = now() - interval '1 second' WHERE code_hash = $1`, [hashToken(response.code)]);
      expect((await exchange(app, response.code, pair.verifier)).body.error).toBe('invalid_grant');
    });

    it('answers invalid_request when a parameter of the grant is missing', async () => {
      const res = await calls.post('/oauth2/token', { grant_type: 'authorization_code', code: 'abc', redirect_uri: REDIRECT }, app);
      expect(res.body).toEqual({ error: 'invalid_request', error_description: 'code_verifier is required with grant_type authorization_code.' });
    });

    it('revokes the grant of a code presented a second time, with an audit row and a suspicious event (RFC 6749 §4.1.2)', async () => {
      const heard: RevocationEvent[] = [];
      const unsubscribe = server.app.get(RevocationEvents).subscribe((e) => void heard.push(e));
      try {
        const pair = pkce();
        const { response } = await codeFor(app, pair.challenge);
        const first = await exchange(app, response.code, pair.verifier);
        expect(first.status).toBe(200);
        const replay = await exchange(app, response.code, pair.verifier);
        expect(replay.status).toBe(400);
        expect(replay.body.error).toBe('invalid_grant');
        const { rows } = await server.pool.query('SELECT grant_id FROM authorization_codes WHERE code_hash = $1', [hashToken(response.code)]);
        const grantId = rows[0].grant_id;
        expect(await fx.grantState(grantId)).toMatchObject({ grantRevoked: true, liveAccess: 0, liveRefresh: 0 });
        expect(await fx.auditRows(grantId)).toEqual([{ reason: 'authorization_code_reuse', token_type: null, revoking_client_id: app.client_id, client_id: app.client_id }]);
        await waitFor(async () => heard.some((e) => e.grantId === grantId), 5_000, 'the replay event');
        expect(heard.filter((e) => e.grantId === grantId)).toEqual([expect.objectContaining({ reason: 'authorization_code_reuse', suspicious: true, revokedAt: expect.any(Date) })]);
        expect((await calls.refresh(first.body.refresh_token, app)).body.error).toBe('invalid_grant');
        // Further replays find the grant already revoked: no new audit row, no new event.
        expect((await exchange(app, response.code, pair.verifier)).body.error).toBe('invalid_grant');
        expect((await exchange(app, response.code, pair.verifier)).body.error).toBe('invalid_grant');
        const probe = await fx.login(app.client_id);
        await server.pool.query(`SELECT * FROM oauth_revoke_grant($1, NULL, NULL, 'admin')`, [probe.grant_id]);
        await waitFor(async () => heard.some((e) => e.grantId === probe.grant_id), 5_000, 'the probe event');
        expect(heard.filter((e) => e.grantId === grantId)).toHaveLength(1);
        expect(await fx.auditRows(grantId)).toHaveLength(1);
      } finally {
        unsubscribe();
      }
    });

    it('leaves the code useless when its grant was revoked before the exchange', async () => {
      const pair = pkce();
      const { response } = await codeFor(app, pair.challenge);
      const { rows } = await server.pool.query('SELECT grant_id FROM authorization_codes WHERE code_hash = $1', [hashToken(response.code)]);
      await server.pool.query(`SELECT * FROM oauth_revoke_grant($1, NULL, NULL, 'admin')`, [rows[0].grant_id]);
      expect((await exchange(app, response.code, pair.verifier)).body.error).toBe('invalid_grant');
    });

    it('authenticates a confidential client at the exchange', async () => {
      const web = await codeClient(server.app, 'client_secret_basic');
      const pair = pkce();
      const { response } = await codeFor(web, pair.challenge);
      const anonymous = await http.post('/oauth2/token').type('form').send(new URLSearchParams({ grant_type: 'authorization_code', code: response.code, redirect_uri: REDIRECT, code_verifier: pair.verifier, client_id: web.client_id }).toString());
      expect(anonymous.status).toBe(401);
      expect((await exchange(web, response.code, pair.verifier)).status).toBe(200);
    });
  });

  it('retention cleanup deletes old requests and codes, and the token-less grant of a code never exchanged; a used code stays until then', async () => {
    const unused = pkce();
    const used = pkce();
    const never = await codeFor(app, unused.challenge);
    const once = await codeFor(app, used.challenge);
    expect((await exchange(app, once.response.code, used.verifier)).status).toBe(200);
    const grantOf = async (code: string) => (await server.pool.query('SELECT grant_id FROM authorization_codes WHERE code_hash = $1', [hashToken(code)])).rows[0]?.grant_id as string | undefined;
    const neverGrant = (await grantOf(never.response.code))!;
    const onceGrant = (await grantOf(once.response.code))!;
    const { TokenCleanupService } = await import('../src/grants/token-cleanup.service');
    const cleanup = () => server.app.get(TokenCleanupService).cleanup();
    await cleanup();
    expect(await grantOf(never.response.code)).toBe(neverGrant);
    await server.pool.query(`UPDATE authorization_codes SET expires_at = now() - interval '31 days' WHERE code_hash = ANY ($1)`, [[hashToken(never.response.code), hashToken(once.response.code)]]);
    await server.pool.query(`UPDATE authorization_requests SET expires_at = now() - interval '31 days' WHERE client_id = $1`, [app.client_id]);
    const result = await cleanup();
    expect(result.deleted_authorization_codes).toBeGreaterThanOrEqual(2);
    expect(result.deleted_authorization_requests).toBeGreaterThanOrEqual(2);
    expect(await grantOf(never.response.code)).toBeUndefined();
    const grants = await server.pool.query('SELECT id FROM grants WHERE id = ANY ($1)', [[neverGrant, onceGrant]]);
    // The exchanged grant has tokens: it stays, and lives on as any other.
    expect(grants.rows).toEqual([{ id: onceGrant }]);
    const left = await server.pool.query('SELECT count(*)::int AS n FROM authorization_requests WHERE client_id = $1', [app.client_id]);
    expect(left.rows[0].n).toBe(0);
  });

  it('publishes the endpoint and its capabilities in the discovery document', async () => {
    const res = await http.get('/.well-known/oauth-authorization-server');
    expect(res.body).toMatchObject({
      authorization_endpoint: `${ISSUER}/oauth2/authorize`,
      response_types_supported: ['code'],
      response_modes_supported: ['query', 'fragment'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
    });
    expect(res.body.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token']));
  });
});
