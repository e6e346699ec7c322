import { Logger } from '@nestjs/common';
import request from 'supertest';
import { Client } from 'pg';
import { RevocationEvents } from '../src/core/revocation-events';
import { InvalidationListener } from '../src/database/invalidation-listener';
import type { RevocationEvent } from '../src/core/revocation-event';
import { generateToken, hashToken } from '../src/grants/token-format';
import { TokensService } from '../src/grants/tokens.service';
import { basic, Fixtures } from './support/fixtures';
import { waitFor } from './support/processes';
import { testDatabaseKind } from './support/test-database';
import { startTestServer, TestServer } from './support/test-app';

describe('POST /oauth2/revoke: what is revoked (RFC 7009 + Matrix grant-wide semantics)', () => {
  let server: TestServer;
  let fx: Fixtures;
  let http: ReturnType<typeof request>;
  let publicClient: string;

  beforeAll(async () => {
    server = await startTestServer();
    fx = new Fixtures(server.app, server.pool);
    http = request(server.app.getHttpServer());
    publicClient = (await fx.client('none')).client_id;
  });
  afterAll(() => server.close());

  const revoke = (token: string, extra = '') => http.post('/oauth2/revoke').type('form').send(`token=${encodeURIComponent(token)}${extra}`);

  it('revokes the whole grant, its access and its refresh token, when the access token is presented', async () => {
    const login = await fx.login(publicClient);
    expect((await revoke(login.access_token)).status).toBe(200);
    expect(await fx.grantState(login.grant_id)).toEqual({ grantRevoked: true, liveAccess: 0, liveRefresh: 0, tokens: 2 });
  });

  it('revokes the whole grant when the refresh token is presented', async () => {
    const login = await fx.login(publicClient);
    expect((await revoke(login.refresh_token)).status).toBe(200);
    expect(await fx.grantState(login.grant_id)).toEqual({ grantRevoked: true, liveAccess: 0, liveRefresh: 0, tokens: 2 });
  });

  it('revokes the whole grant when an expired access token is presented: its live refresh token dies too', async () => {
    const login = await fx.login(publicClient);
    await fx.expireAccessToken(login.access_token);
    expect((await revoke(login.access_token)).status).toBe(200);
    expect(await fx.grantState(login.grant_id)).toMatchObject({ grantRevoked: true, liveRefresh: 0 });
  });

  it('revokes the whole grant when a rotated-away (consumed) refresh token is presented', async () => {
    const login = await fx.login(publicClient);
    const next = await server.app.get(TokensService).issueInGrant(login.grant_id);
    await server.pool.query('UPDATE refresh_tokens SET consumed_at = now() WHERE token_hash = $1', [hashToken(login.refresh_token)]);
    expect((await revoke(login.refresh_token)).status).toBe(200);
    expect(await fx.grantState(login.grant_id)).toEqual({ grantRevoked: true, liveAccess: 0, liveRefresh: 0, tokens: 4 });
    expect(next.refresh_token).not.toBe(login.refresh_token);
  });

  it('revokes every token of a grant that holds many, with the same SQL statements as a grant of one', async () => {
    const statementsFor = async (extraPairs: number): Promise<string[]> => {
      const login = await fx.login(publicClient);
      for (let i = 0; i < extraPairs; i += 50) {
        await server.pool.query(
          `INSERT INTO access_tokens (grant_id, token_hash, expires_at)
           SELECT $1, sha256(gen_random_uuid()::text::bytea), now() + interval '1 hour' FROM generate_series(1, $2)`,
          [login.grant_id, Math.min(50, extraPairs - i)],
        );
        await server.pool.query(
          `INSERT INTO refresh_tokens (grant_id, token_hash) SELECT $1, sha256(gen_random_uuid()::text::bytea) FROM generate_series(1, $2)`,
          [login.grant_id, Math.min(50, extraPairs - i)],
        );
      }
      // Every statement any path sends, TypeORM's or a prepared one, goes through pg's Client#query.
      const spy = jest.spyOn(Client.prototype, 'query');
      try {
        expect((await revoke(login.access_token, `&client_id=${publicClient}`)).status).toBe(200);
        return (
          spy.mock.calls
            .map((call) => {
              const q = call[0] as string | { text: string };
              return (typeof q === 'string' ? q : q.text).replace(/\s+/g, ' ').trim();
            })
            // What runs on timers meanwhile, not for the request: outbox reads and listener heartbeats.
            .filter((q) => !/FROM revocation_audit|pg_notify\('oauth_invalidate', \$1\)/.test(q))
        );
      } finally {
        spy.mockRestore();
        const state = await fx.grantState(login.grant_id);
        expect(state).toEqual({ grantRevoked: true, liveAccess: 0, liveRefresh: 0, tokens: 2 + 2 * extraPairs });
      }
    };
    const onPostgres = testDatabaseKind() === 'postgres';
    // The caches answer once the listener listens and the outbox has been read (the embedded database: never).
    if (onPostgres) await waitFor(async () => server.app.get(InvalidationListener).active, 5_000, 'the caches to answer');
    await statementsFor(0); // the client's record is now cached where caching is on
    const one = await statementsFor(0);
    const thousand = await statementsFor(500); // 1 + 500 access and 1 + 500 refresh tokens: 1,002 tokens
    expect(thousand).toEqual(one);
    // The revocation itself, after the client lookup only where the client cache is off (the embedded
    // database): one round trip with the cache, two without (one for anonymous requests either way); then,
    // on PostgreSQL, the announcement to every instance, once the revocation has committed.
    const announce = "SELECT pg_notify('oauth_invalidate', p) FROM unnest($1::text[]) p";
    expect(one.slice(-1)).toEqual(onPostgres ? [announce] : [expect.stringMatching(/FROM oauth_revoke_token\(/)]);
    const revocation = onPostgres ? one.slice(0, -1) : one;
    expect(revocation).toHaveLength(onPostgres ? 1 : 2);
    expect(revocation[revocation.length - 1]).toMatch(/FROM oauth_revoke_token\(/);
  });

  it.each([
    ['an unknown but well-formed token', () => generateToken('oat_')],
    ['a malformed token', () => 'definitely-not-a-token'],
    ['a token with a broken checksum', () => generateToken('ort_').slice(0, -1) + 'x'],
  ])('answers 200 with an empty body for %s and changes nothing', async (_name, make) => {
    const before = await server.pool.query('SELECT count(*)::int AS n FROM revocation_audit');
    const res = await revoke(make());
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    const after = await server.pool.query('SELECT count(*)::int AS n FROM revocation_audit');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('answers an already revoked token exactly like a live one, and writes no second audit row', async () => {
    const login = await fx.login(publicClient);
    const first = await revoke(login.access_token);
    const second = await revoke(login.refresh_token);
    expect([first.status, first.text, second.status, second.text]).toEqual([200, '', 200, '']);
    expect(await fx.auditRows(login.grant_id)).toHaveLength(1);
  });

  it('ignores a wrong or unknown token_type_hint and still finds the token', async () => {
    const a = await fx.login(publicClient);
    const b = await fx.login(publicClient);
    expect((await revoke(a.access_token, '&token_type_hint=refresh_token')).status).toBe(200);
    expect((await revoke(b.refresh_token, '&token_type_hint=id_token')).status).toBe(200);
    expect((await fx.grantState(a.grant_id)).grantRevoked).toBe(true);
    expect((await fx.grantState(b.grant_id)).grantRevoked).toBe(true);
  });

  it('leaves other grants of the same client and subject alone', async () => {
    const a = await fx.login(publicClient, '@same:example.org');
    const b = await fx.login(publicClient, '@same:example.org');
    await revoke(a.access_token);
    expect(await fx.grantState(b.grant_id)).toEqual({ grantRevoked: false, liveAccess: 1, liveRefresh: 1, tokens: 2 });
  });

  it('is effective the moment the answer is sent: a new pair can no longer be issued into the grant', async () => {
    const login = await fx.login(publicClient);
    await revoke(login.access_token);
    await expect(server.app.get(TokensService).issueInGrant(login.grant_id)).rejects.toThrow(/revoked/);
  });

  it('leaves no live token once the first of many parallel revocations answered, while pairs are issued into the grant', async () => {
    const login = await fx.login(publicClient);
    const tokens = [login.access_token, login.refresh_token];
    for (let i = 0; i < 8; i++) {
      const pair = await server.app.get(TokensService).issueInGrant(login.grant_id);
      tokens.push(pair.access_token, pair.refresh_token);
    }
    let firstAnswered: Promise<{ liveAccess: number; liveRefresh: number }> | undefined;
    const revocations = tokens.map((t) =>
      revoke(t).then((res) => {
        expect(res.status).toBe(200);
        firstAnswered ??= fx.grantState(login.grant_id);
      }),
    );
    const issuance = Array.from({ length: 16 }, () => server.app.get(TokensService).issueInGrant(login.grant_id).then(() => 'issued', () => 'refused'));
    await Promise.all([...revocations, ...issuance]);
    expect(await firstAnswered).toMatchObject({ liveAccess: 0, liveRefresh: 0 });
    expect(await fx.grantState(login.grant_id)).toMatchObject({ grantRevoked: true, liveAccess: 0, liveRefresh: 0 });
    expect(await fx.auditRows(login.grant_id)).toHaveLength(1);
  });

  describe('events', () => {
    it('emits one event with grant, client, subject, scope, token type, revoking client and reason', async () => {
      const c = await fx.client('client_secret_basic');
      const login = await fx.login(c.client_id, '@alice:example.org');
      const events: RevocationEvent[] = [];
      const off = server.app.get(RevocationEvents).subscribe((e) => void events.push(e));
      try {
        await http.post('/oauth2/revoke').type('form').set('Authorization', basic(c.client_id, c.client_secret!)).send(`token=${login.refresh_token}`);
        await waitFor(async () => events.some((e) => e.grantId === login.grant_id), 5000, 'the revocation event');
      } finally {
        off();
      }
      expect(events.filter((e) => e.grantId === login.grant_id)).toEqual([
        {
          grantId: login.grant_id,
          clientId: c.client_id,
          subject: '@alice:example.org',
          scope: 'openid',
          tokenType: 'refresh_token',
          revokingClientId: c.client_id,
          reason: 'client_request',
          suspicious: false,
          revokedAt: expect.any(Date),
        },
      ]);
    });

    it('emits no event for a token that was already revoked', async () => {
      const login = await fx.login(publicClient);
      const probe = await fx.login(publicClient);
      const events: RevocationEvent[] = [];
      // Subscribed before the first revocation: its event is heard once, and the second revocation has none.
      const off = server.app.get(RevocationEvents).subscribe((e) => void events.push(e));
      let afterFirst: RevocationEvent[];
      try {
        await revoke(login.access_token);
        await waitFor(async () => events.some((e) => e.grantId === login.grant_id), 5000, 'the first revocation event');
        const mark = events.length;
        await revoke(login.refresh_token);
        await revoke(probe.access_token); // a later event proves delivery happened meanwhile
        await waitFor(async () => events.some((e) => e.grantId === probe.grant_id), 5000, 'the probe event');
        afterFirst = events.slice(mark);
      } finally {
        off();
      }
      expect(events.filter((e) => e.grantId === login.grant_id).map((e) => e.tokenType)).toEqual(['access_token']);
      expect(afterFirst.map((e) => e.grantId)).not.toContain(login.grant_id);
      expect(afterFirst.filter((e) => e.grantId === probe.grant_id)).toHaveLength(1);
      expect(await fx.auditRows(login.grant_id)).toHaveLength(1); // one revocation recorded, not two
    });

    it('a listener that throws, rejects or never settles neither blocks nor undoes the revocation; the failure is logged', async () => {
      const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      const events = server.app.get(RevocationEvents);
      const offs = [
        events.subscribe(() => {
          throw new Error('listener exploded');
        }),
        events.subscribe(() => Promise.reject(new Error('listener rejected'))),
        events.subscribe(() => new Promise(() => undefined)),
      ];
      try {
        const login = await fx.login(publicClient);
        const res = await revoke(login.access_token);
        expect(res.status).toBe(200);
        expect(await fx.grantState(login.grant_id)).toMatchObject({ grantRevoked: true, liveAccess: 0, liveRefresh: 0 });
        await waitFor(async () => logged.mock.calls.length >= 2, 5000, 'the listener failures to be logged');
        const messages = logged.mock.calls.map((c) => String(c[0]));
        expect(messages.some((m) => m.includes('listener exploded') && m.includes(login.grant_id))).toBe(true);
        expect(messages.some((m) => m.includes('listener rejected'))).toBe(true);
        expect(messages.join('\n')).not.toContain(login.access_token);
      } finally {
        offs.forEach((off) => off());
        logged.mockRestore();
      }
    });
  });
});
