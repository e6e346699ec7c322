import request from 'supertest';
import { generateToken } from '../src/grants/token-format';
import { RevocationEvents } from '../src/core/revocation-events';
import type { RevocationEvent } from '../src/core/revocation-event';
import { basic, Fixtures } from './support/fixtures';
import { waitFor } from './support/processes';
import { startTestServer, TestServer } from './support/test-app';

/** A server with the given policy env, a token owner, and another authenticated client. */
async function setup(env: Record<string, string> = {}) {
  const server = await startTestServer(env);
  const fx = new Fixtures(server.app, server.pool);
  const owner = await fx.client('client_secret_basic');
  const other = await fx.client('client_secret_basic');
  const http = request(server.app.getHttpServer());
  const revokeAs = (token: string, client?: { client_id: string; client_secret?: string }) => {
    const req = http.post('/oauth2/revoke').type('form');
    if (client) req.set('Authorization', basic(client.client_id, client.client_secret!));
    return req.send(`token=${token}`);
  };
  return { server, fx, owner, other, revokeAs };
}

describe('policy defaults (Matrix client-server API)', () => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  const events: RevocationEvent[] = [];
  beforeAll(async () => {
    ctx = await setup();
    ctx.server.app.get(RevocationEvents).subscribe((e) => void events.push(e));
  });
  afterAll(() => ctx.server.close());

  it('revokes for an anonymous request, records it as anonymous and emits a suspicious event', async () => {
    const login = await ctx.fx.login(ctx.owner.client_id, '@bob:example.org');
    const res = await ctx.revokeAs(login.access_token);
    expect(res.status).toBe(200);
    expect(await ctx.fx.grantState(login.grant_id)).toMatchObject({ grantRevoked: true, liveAccess: 0, liveRefresh: 0 });
    expect(await ctx.fx.auditRows(login.grant_id)).toEqual([{ reason: 'anonymous_request', token_type: 'access_token', revoking_client_id: null, client_id: ctx.owner.client_id }]);
    await waitFor(async () => events.some((e) => e.grantId === login.grant_id), 5000, 'the event');
    expect(events.find((e) => e.grantId === login.grant_id)).toMatchObject({ suspicious: true, revokingClientId: null, reason: 'anonymous_request', subject: '@bob:example.org' });
  });

  it("revokes another client's token, records the revoking client and emits a suspicious event", async () => {
    const login = await ctx.fx.login(ctx.owner.client_id);
    const res = await ctx.revokeAs(login.refresh_token, ctx.other);
    expect(res.status).toBe(200);
    expect(await ctx.fx.grantState(login.grant_id)).toMatchObject({ grantRevoked: true, liveAccess: 0, liveRefresh: 0 });
    expect(await ctx.fx.auditRows(login.grant_id)).toEqual([
      { reason: 'foreign_client_request', token_type: 'refresh_token', revoking_client_id: ctx.other.client_id, client_id: ctx.owner.client_id },
    ]);
    const row = await ctx.server.pool.query('SELECT revoked_by_client_id, revocation_reason FROM grants WHERE id = $1', [login.grant_id]);
    expect(row.rows[0]).toEqual({ revoked_by_client_id: ctx.other.client_id, revocation_reason: 'foreign_client_request' });
    await waitFor(async () => events.some((e) => e.grantId === login.grant_id), 5000, 'the event');
    expect(events.find((e) => e.grantId === login.grant_id)).toMatchObject({ suspicious: true, revokingClientId: ctx.other.client_id, clientId: ctx.owner.client_id });
  });
});

describe('REVOCATION_ANONYMOUS=deny', () => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => (ctx = await setup({ REVOCATION_ANONYMOUS: 'deny' })));
  afterAll(() => ctx.server.close());

  it('answers an anonymous request 401 invalid_client and revokes nothing', async () => {
    const login = await ctx.fx.login(ctx.owner.client_id);
    const res = await ctx.revokeAs(login.access_token);
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
    expect(await ctx.fx.grantState(login.grant_id)).toMatchObject({ grantRevoked: false, liveAccess: 1, liveRefresh: 1 });
  });

  it('still revokes for an authenticated client', async () => {
    const login = await ctx.fx.login(ctx.owner.client_id);
    expect((await ctx.revokeAs(login.access_token, ctx.owner)).status).toBe(200);
    expect((await ctx.fx.grantState(login.grant_id)).grantRevoked).toBe(true);
  });
});

describe('REVOCATION_FOREIGN_CLIENT=ignore', () => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => (ctx = await setup({ REVOCATION_FOREIGN_CLIENT: 'ignore' })));
  afterAll(() => ctx.server.close());

  it("answers 200 for another client's token and revokes nothing", async () => {
    const login = await ctx.fx.login(ctx.owner.client_id);
    const res = await ctx.revokeAs(login.access_token, ctx.other);
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    expect(await ctx.fx.grantState(login.grant_id)).toMatchObject({ grantRevoked: false, liveAccess: 1, liveRefresh: 1 });
    expect(await ctx.fx.auditRows(login.grant_id)).toEqual([]);
  });

  it('still lets the owner revoke its own token', async () => {
    const login = await ctx.fx.login(ctx.owner.client_id);
    expect((await ctx.revokeAs(login.access_token, ctx.owner)).status).toBe(200);
    expect((await ctx.fx.grantState(login.grant_id)).grantRevoked).toBe(true);
  });
});

describe('REVOCATION_FOREIGN_CLIENT=reject (strict RFC 7009)', () => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => (ctx = await setup({ REVOCATION_FOREIGN_CLIENT: 'reject' })));
  afterAll(() => ctx.server.close());

  it("answers 401 unauthorized_client for another client's token and revokes nothing", async () => {
    const login = await ctx.fx.login(ctx.owner.client_id);
    const res = await ctx.revokeAs(login.refresh_token, ctx.other);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'unauthorized_client', error_description: expect.any(String) });
    expect(await ctx.fx.grantState(login.grant_id)).toMatchObject({ grantRevoked: false, liveAccess: 1, liveRefresh: 1 });
  });

  it('still answers 200 for unknown tokens (no oracle for tokens that do not exist)', async () => {
    expect((await ctx.revokeAs(generateToken('oat_'), ctx.other)).status).toBe(200);
  });
});
