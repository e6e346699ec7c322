import request from 'supertest';
import { ClientsService, CreatedClient } from '../src/clients/clients.service';
import { RevocationEvents } from '../src/core/revocation-events';
import type { RevocationEvent } from '../src/core/revocation-event';
import { generateToken, hashToken } from '../src/grants/token-format';
import { Fixtures } from './support/fixtures';
import { waitFor } from './support/processes';
import { startTestServer, TestServer, uniqueId } from './support/test-app';
import { OAuthCalls, TokenRows } from './support/token-fixtures';

describe('POST /oauth2/token grant_type=refresh_token: rotation, reuse detection, lost-response retry', () => {
  let server: TestServer;
  let fx: Fixtures;
  let calls: OAuthCalls;
  let db: TokenRows;
  let app: CreatedClient; // a public client, as Matrix clients are
  let web: CreatedClient; // a confidential one
  let rs: CreatedClient; // a resource server that introspects

  beforeAll(async () => {
    server = await startTestServer();
    fx = new Fixtures(server.app, server.pool);
    calls = new OAuthCalls(request(server.app.getHttpServer()));
    db = new TokenRows(server.pool);
    app = await fx.client('none');
    web = await fx.client('client_secret_basic');
    rs = await fx.client('client_secret_post');
  });
  afterAll(() => server.close());

  /** Collects the events of one grant while `body` runs, waiting (bounded) until `count` have arrived. */
  async function eventsOf(grantId: string, count: number, body: () => Promise<unknown>): Promise<RevocationEvent[]> {
    const events: RevocationEvent[] = [];
    const off = server.app.get(RevocationEvents).subscribe((e) => void (e.grantId === grantId && events.push(e)));
    try {
      await body();
      // A later event of another grant proves delivery of anything queued before it.
      const probe = await fx.login(app.client_id);
      const seen: string[] = [];
      const offProbe = server.app.get(RevocationEvents).subscribe((e) => void seen.push(e.grantId));
      await calls.revoke(probe.access_token, app);
      await waitFor(async () => seen.includes(probe.grant_id) && events.length >= count, 5000, 'revocation events');
      offProbe();
    } finally {
      off();
    }
    return events;
  }

  describe('rotation', () => {
    it('exchanges a live refresh token for a new pair in the same grant, consumes it and revokes the access token issued with it', async () => {
      const login = await fx.login(app.client_id);
      const res = await calls.refresh(login.refresh_token, app);
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({
        access_token: expect.stringMatching(/^oat_/),
        token_type: 'Bearer',
        expires_in: 3600,
        refresh_token: expect.stringMatching(/^ort_/),
        scope: 'openid',
      });
      const old = await db.refresh(login.refresh_token);
      const next = await db.refresh(res.body.refresh_token);
      expect(old).toMatchObject({ consumed: true, revoked: false, successor_id: next!.id, grant_id: login.grant_id });
      expect(next).toMatchObject({ consumed: false, revoked: false, superseded: false, grant_id: login.grant_id });
      expect(await db.access(login.access_token)).toMatchObject({ revoked: true });
      const access = await db.access(res.body.access_token);
      expect(access).toMatchObject({ revoked: false, grant_id: login.grant_id, first_used: false });
      expect(next!.access_token_id).toBe(access!.id);
      expect(await db.grant(login.grant_id)).toMatchObject({ revoked: false });
      expect(await db.live(login.grant_id)).toEqual({ access: 1, refresh: 1 });
    });

    it('rotates a chain: each new refresh token can be exchanged in turn, one live pair at a time', async () => {
      const login = await fx.login(app.client_id);
      let refresh = login.refresh_token;
      for (let i = 0; i < 4; i++) {
        const res = await calls.refresh(refresh, app);
        expect(res.status).toBe(200);
        refresh = res.body.refresh_token;
      }
      expect(await db.live(login.grant_id)).toEqual({ access: 1, refresh: 1 });
      expect(await db.counts(login.grant_id)).toEqual({ access: 5, refresh: 5, audit: 0 });
    });

    it('authenticates a confidential client with its secret before rotating', async () => {
      const login = await fx.login(web.client_id);
      const res = await calls.refresh(login.refresh_token, web);
      expect(res.status).toBe(200);
      expect(await db.refresh(login.refresh_token)).toMatchObject({ consumed: true });
    });

    it('answers 401 invalid_client for a wrong secret and leaves the refresh token unconsumed', async () => {
      const login = await fx.login(web.client_id);
      const res = await calls.refresh(login.refresh_token, { ...web, client_secret: 'wrong' });
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_client');
      expect(await db.refresh(login.refresh_token)).toMatchObject({ consumed: false, revoked: false });
    });

    it('issues an access token with a narrower scope when asked (RFC 6749 §6); the refresh token keeps the full scope', async () => {
      const login = await fx.login(app.client_id);
      await server.pool.query(`UPDATE grants SET scope = 'openid profile email' WHERE id = $1`, [login.grant_id]);
      const narrowed = await calls.refresh(login.refresh_token, app, { scope: 'email openid' });
      expect(narrowed.status).toBe(200);
      expect(narrowed.body.scope).toBe('email openid');
      expect(await db.access(narrowed.body.access_token)).toMatchObject({ scope: 'email openid' });
      const full = await calls.refresh(narrowed.body.refresh_token, app);
      expect(full.body.scope).toBe('openid profile email');
      expect(await db.access(full.body.access_token)).toMatchObject({ scope: null });
    });

    it('treats the granted scope in another order as no narrowing', async () => {
      const login = await fx.login(app.client_id);
      await server.pool.query(`UPDATE grants SET scope = 'openid profile' WHERE id = $1`, [login.grant_id]);
      const res = await calls.refresh(login.refresh_token, app, { scope: 'profile openid' });
      expect(res.body.scope).toBe('openid profile');
      expect(await db.access(res.body.access_token)).toMatchObject({ scope: null });
    });

    it('answers 400 invalid_scope for a scope beyond the grant and consumes nothing', async () => {
      const login = await fx.login(app.client_id);
      const res = await calls.refresh(login.refresh_token, app, { scope: 'openid admin' });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_scope');
      expect(await db.refresh(login.refresh_token)).toMatchObject({ consumed: false, revoked: false });
      expect(await db.counts(login.grant_id)).toEqual({ access: 1, refresh: 1, audit: 0 });
    });

    it('answers 400 invalid_scope for a malformed scope and consumes nothing', async () => {
      const login = await fx.login(app.client_id);
      const res = await calls.refresh(login.refresh_token, app, { scope: 'openid  profile' });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_scope');
      expect(await db.refresh(login.refresh_token)).toMatchObject({ consumed: false });
    });
  });

  describe('reuse detection (RFC 9700 §4.14.2; Matrix: the session is compromised)', () => {
    it('revokes the whole grant when a consumed refresh token comes back after its successor was refreshed, and answers invalid_grant', async () => {
      const login = await fx.login(app.client_id);
      const first = await calls.refresh(login.refresh_token, app);
      const second = await calls.refresh(first.body.refresh_token, app);
      expect(second.status).toBe(200);
      let res!: request.Response;
      const events = await eventsOf(login.grant_id, 1, async () => {
        res = await calls.refresh(login.refresh_token, app);
      });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_grant', error_description: expect.stringMatching(/already used/) });
      expect(res.text).not.toContain(login.refresh_token);
      // The answer left after the revocation committed: the database shows it already.
      expect(await db.grant(login.grant_id)).toEqual({ revoked: true, revocation_reason: 'refresh_token_reuse', revoked_by_client_id: app.client_id });
      expect(await db.live(login.grant_id)).toEqual({ access: 0, refresh: 0 });
      expect(await fx.auditRows(login.grant_id)).toEqual([
        { reason: 'refresh_token_reuse', token_type: 'refresh_token', revoking_client_id: app.client_id, client_id: app.client_id },
      ]);
      expect(events).toEqual([
        {
          grantId: login.grant_id,
          clientId: app.client_id,
          subject: expect.any(String),
          scope: 'openid',
          tokenType: 'refresh_token',
          revokingClientId: app.client_id,
          reason: 'refresh_token_reuse',
          suspicious: true,
          revokedAt: expect.any(Date),
        },
      ]);
      // The current refresh token, held by whoever refreshed last, is dead as well.
      expect((await calls.refresh(second.body.refresh_token, app)).body.error).toBe('invalid_grant');
    });

    it("counts the successor as used once introspection has seen its access token, so the consumed token's return is reuse", async () => {
      const login = await fx.login(app.client_id);
      const next = await calls.refresh(login.refresh_token, app);
      expect((await calls.introspect(next.body.access_token, rs)).body.active).toBe(true);
      expect(await db.access(next.body.access_token)).toMatchObject({ first_used: true });
      const res = await calls.refresh(login.refresh_token, app);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_grant');
      expect(await db.grant(login.grant_id)).toMatchObject({ revoked: true, revocation_reason: 'refresh_token_reuse' });
      expect(await db.live(login.grant_id)).toEqual({ access: 0, refresh: 0 });
    });

    it('detects reuse even when the returning token has expired meanwhile', async () => {
      const login = await fx.login(app.client_id);
      const first = await calls.refresh(login.refresh_token, app);
      await calls.refresh(first.body.refresh_token, app);
      await server.pool.query(`UPDATE refresh_tokens SET expires_at = now() - interval '1 day' WHERE token_hash = $1`, [hashToken(login.refresh_token)]);
      const res = await calls.refresh(login.refresh_token, app);
      expect(res.body.error).toBe('invalid_grant');
      expect(await db.grant(login.grant_id)).toMatchObject({ revoked: true, revocation_reason: 'refresh_token_reuse' });
    });

    it('writes no second audit row and fires no event when the grant was already revoked', async () => {
      const login = await fx.login(app.client_id);
      // Heard from before the first reuse (a listener may also hear revocations committed just before it
      // subscribed): the first reuse's event, and none for the later ones.
      const events = await eventsOf(login.grant_id, 1, async () => {
        const first = await calls.refresh(login.refresh_token, app);
        await calls.refresh(first.body.refresh_token, app);
        expect((await calls.refresh(login.refresh_token, app)).body.error).toBe('invalid_grant');
        expect((await calls.refresh(login.refresh_token, app)).body.error).toBe('invalid_grant');
        expect((await calls.refresh(first.body.refresh_token, app)).body.error).toBe('invalid_grant');
      });
      expect(events).toEqual([expect.objectContaining({ reason: 'refresh_token_reuse' })]);
      expect(await fx.auditRows(login.grant_id)).toHaveLength(1);
    });
  });

  describe('lost-response retry (Matrix: the server MUST let the client retry)', () => {
    it('answers a retry with a fresh pair and revokes the unused successor pair it replaces', async () => {
      const login = await fx.login(app.client_id);
      const lost = await calls.refresh(login.refresh_token, app); // the client never saw this answer
      const retry = await calls.refresh(login.refresh_token, app);
      expect(retry.status).toBe(200);
      expect(retry.body.refresh_token).not.toBe(lost.body.refresh_token);
      const replaced = await db.refresh(lost.body.refresh_token);
      const fresh = await db.refresh(retry.body.refresh_token);
      expect(replaced).toMatchObject({ revoked: true, superseded: true, consumed: false });
      expect(await db.access(lost.body.access_token)).toMatchObject({ revoked: true });
      expect(await db.refresh(login.refresh_token)).toMatchObject({ consumed: true, revoked: false, successor_id: fresh!.id });
      expect(fresh).toMatchObject({ revoked: false, consumed: false });
      expect(await db.grant(login.grant_id)).toMatchObject({ revoked: false });
      expect(await db.live(login.grant_id)).toEqual({ access: 1, refresh: 1 });
      expect(await fx.auditRows(login.grant_id)).toEqual([]);
      // The fresh pair works as any other.
      expect((await calls.refresh(retry.body.refresh_token, app)).status).toBe(200);
    });

    it('lets the client retry again while the latest pair is still unused', async () => {
      const login = await fx.login(app.client_id);
      await calls.refresh(login.refresh_token, app);
      await calls.refresh(login.refresh_token, app);
      const third = await calls.refresh(login.refresh_token, app);
      expect(third.status).toBe(200);
      expect(await db.live(login.grant_id)).toEqual({ access: 1, refresh: 1 });
      expect(await db.grant(login.grant_id)).toMatchObject({ revoked: false });
    });

    it('counts presenting a successor that a retry replaced as reuse, and revokes the grant', async () => {
      const login = await fx.login(app.client_id);
      const lost = await calls.refresh(login.refresh_token, app);
      const retry = await calls.refresh(login.refresh_token, app);
      const res = await calls.refresh(lost.body.refresh_token, app);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_grant');
      expect(await db.grant(login.grant_id)).toMatchObject({ revoked: true, revocation_reason: 'refresh_token_reuse' });
      expect(await db.refresh(retry.body.refresh_token)).toMatchObject({ revoked: true });
      expect(await fx.auditRows(login.grant_id)).toEqual([expect.objectContaining({ reason: 'refresh_token_reuse' })]);
    });

    it('does not allow a retry with an expired consumed token: invalid_grant, the grant stays', async () => {
      const login = await fx.login(app.client_id);
      const next = await calls.refresh(login.refresh_token, app);
      await server.pool.query(`UPDATE refresh_tokens SET expires_at = now() - interval '1 minute' WHERE token_hash = $1`, [hashToken(login.refresh_token)]);
      const res = await calls.refresh(login.refresh_token, app);
      expect(res.body.error).toBe('invalid_grant');
      expect(await db.grant(login.grant_id)).toMatchObject({ revoked: false });
      expect(await db.refresh(next.body.refresh_token)).toMatchObject({ revoked: false, superseded: false });
    });
  });

  describe('refusals', () => {
    const expectInvalidGrant = (res: request.Response) => {
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_grant', error_description: expect.any(String) });
    };

    it('answers invalid_grant for a refresh token of a revoked grant and changes nothing', async () => {
      const login = await fx.login(app.client_id);
      await calls.revoke(login.access_token, app);
      expectInvalidGrant(await calls.refresh(login.refresh_token, app));
      expect(await db.counts(login.grant_id)).toEqual({ access: 1, refresh: 1, audit: 1 });
      expect(await db.grant(login.grant_id)).toMatchObject({ revocation_reason: 'client_request' });
    });

    it('answers invalid_grant for an expired refresh token and leaves the grant alone', async () => {
      const login = await fx.login(app.client_id);
      await server.pool.query(`UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = $1`, [hashToken(login.refresh_token)]);
      expectInvalidGrant(await calls.refresh(login.refresh_token, app));
      expect(await db.refresh(login.refresh_token)).toMatchObject({ consumed: false, revoked: false });
      expect(await db.grant(login.grant_id)).toMatchObject({ revoked: false });
      expect(await db.counts(login.grant_id)).toEqual({ access: 1, refresh: 1, audit: 0 });
    });

    it.each([
      ['an unknown but well-formed refresh token', () => generateToken('ort_')],
      ['a malformed token', () => 'not-a-refresh-token'],
      ['an access token', () => generateToken('oat_')],
    ])('answers invalid_grant for %s', async (_name, make) => {
      expectInvalidGrant(await calls.refresh(make(), app));
    });

    it("answers invalid_grant for another client's refresh token and leaves the owner's grant untouched", async () => {
      const login = await fx.login(web.client_id);
      expectInvalidGrant(await calls.refresh(login.refresh_token, app));
      expect(await db.refresh(login.refresh_token)).toMatchObject({ consumed: false, revoked: false });
      expect(await db.grant(login.grant_id)).toMatchObject({ revoked: false });
      expect(await db.counts(login.grant_id)).toEqual({ access: 1, refresh: 1, audit: 0 });
    });

    it("does not treat another client presenting a consumed token as reuse: the owner's session survives", async () => {
      const login = await fx.login(web.client_id);
      const next = await calls.refresh(login.refresh_token, web);
      await calls.refresh(next.body.refresh_token, web);
      expectInvalidGrant(await calls.refresh(login.refresh_token, app));
      expect(await db.grant(login.grant_id)).toMatchObject({ revoked: false });
    });

    it('answers 400 invalid_request when refresh_token is missing', async () => {
      const res = await calls.post('/oauth2/token', { grant_type: 'refresh_token' }, app);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_request', error_description: expect.stringMatching(/refresh_token is required/) });
    });

    it('answers 400 unauthorized_client when the client may not use refresh_token, and consumes nothing', async () => {
      const machine = await server.app.get(ClientsService).create({ clientId: uniqueId('cc-only'), authMethod: 'client_secret_basic', grantTypes: ['client_credentials'] });
      const login = await fx.login(machine.client_id);
      const res = await calls.refresh(login.refresh_token, machine);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('unauthorized_client');
      expect(await db.refresh(login.refresh_token)).toMatchObject({ consumed: false });
    });

    it('answers 401 invalid_client to a request that names no client, and consumes nothing', async () => {
      const login = await fx.login(app.client_id);
      const res = await calls.post('/oauth2/token', { grant_type: 'refresh_token', refresh_token: login.refresh_token });
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_client');
      expect(await db.refresh(login.refresh_token)).toMatchObject({ consumed: false });
    });
  });
});
