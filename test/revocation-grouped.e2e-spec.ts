import request from 'supertest';
import { RevocationEvents } from '../src/core/revocation-events';
import type { RevocationEvent } from '../src/core/revocation-event';
import { PreparedStatement } from '../src/database/prepared-statement';
import { generateToken, hashToken } from '../src/grants/token-format';
import type { IssuedGrant } from '../src/grants/tokens.service';
import { RevocationService } from '../src/revocation/revocation.service';
import { basic, Fixtures } from './support/fixtures';
import { waitFor } from './support/processes';
import { testDatabaseKind } from './support/test-database';
import { startTestServer, TestServer } from './support/test-app';

/** Every statement the revoke path sends, by name, with how many requests it carried. */
function watchStatements(): { sent: Array<{ name: string; requests: number }>; stop: () => void } {
  const sent: Array<{ name: string; requests: number }> = [];
  const original = PreparedStatement.prototype.run;
  const spy = jest.spyOn(PreparedStatement.prototype, 'run').mockImplementation(function (this: PreparedStatement<never>, ds, values) {
    const name = (this as unknown as { name: string }).name;
    if (name.startsWith('oauth_revoke_token')) sent.push({ name, requests: Array.isArray(values[0]) ? values[0].length : 1 });
    return original.call(this, ds, values);
  });
  return { sent, stop: () => spy.mockRestore() };
}

describe('POST /oauth2/revoke: requests that arrive together are revoked in one statement (group commit), each as if alone', () => {
  let server: TestServer;
  let fx: Fixtures;
  let http: ReturnType<typeof request>;
  let owner: { client_id: string; client_secret?: string };
  let other: { client_id: string; client_secret?: string };

  beforeAll(async () => {
    // One statement at a time: whatever arrives while it runs waits and goes in the next one.
    server = await startTestServer({ REVOCATION_STATEMENTS_IN_FLIGHT: '1' });
    fx = new Fixtures(server.app, server.pool);
    http = request(server.app.getHttpServer());
    owner = await fx.client('client_secret_basic');
    other = await fx.client('client_secret_basic');
  });
  afterAll(() => server.close());

  const revoke = (token: string, as: { client_id: string; client_secret?: string } | null) => {
    const req = http.post('/oauth2/revoke').type('form');
    if (as) req.set('Authorization', basic(as.client_id, as.client_secret!));
    return req.send(`token=${encodeURIComponent(token)}`);
  };

  it('answers, revokes, audits and announces every request of a group exactly as it would one alone', async () => {
    const logins: IssuedGrant[] = [];
    for (let i = 0; i < 30; i++) logins.push(await fx.login(owner.client_id));
    // Per grant: who revokes it, with which token(s), and the reason the audit row must carry.
    const plan = logins.map((login, i) => {
      switch (i % 5) {
        case 0:
          return { login, sends: [[login.access_token, owner]], reason: 'client_request', by: owner.client_id };
        case 1:
          return { login, sends: [[login.refresh_token, owner]], reason: 'client_request', by: owner.client_id };
        case 2: // both tokens of one grant in the same group: the first revokes it, the second finds it revoked
          return { login, sends: [[login.access_token, owner], [login.refresh_token, owner]], reason: 'client_request', by: owner.client_id };
        case 3:
          return { login, sends: [[login.access_token, other]], reason: 'foreign_client_request', by: other.client_id };
        default:
          return { login, sends: [[login.refresh_token, null]], reason: 'anonymous_request', by: null };
      }
    }) as Array<{ login: IssuedGrant; sends: Array<[string, typeof owner | null]>; reason: string; by: string | null }>;
    const unknown = Array.from({ length: 10 }, (_, i) => generateToken(i % 2 ? 'oat_' : 'ort_'));

    const events: RevocationEvent[] = [];
    const off = server.app.get(RevocationEvents).subscribe((e) => void events.push(e));
    const statements = watchStatements();
    let answers: number[];
    try {
      const sends = [...plan.flatMap((p) => p.sends), ...unknown.map((t) => [t, owner] as [string, typeof owner])];
      answers = (await Promise.all(sends.map(([token, as]) => revoke(token, as)))).map((r) => r.status);
      await waitFor(async () => logins.every((l) => events.some((e) => e.grantId === l.grant_id)), 5000, 'an event for every grant');
      await new Promise((r) => setTimeout(r, 300)); // room for a duplicate to show
    } finally {
      statements.stop();
      off();
    }

    expect(answers).toEqual(answers.map(() => 200));
    // Grouped for real: at least one statement carried several requests, and every request went in one.
    const grouped = statements.sent.filter((s) => s.name === 'oauth_revoke_tokens');
    expect(grouped.length).toBeGreaterThan(0);
    expect(Math.max(...grouped.map((s) => s.requests))).toBeGreaterThan(1);
    expect(statements.sent.reduce((n, s) => n + s.requests, 0)).toBe(answers.length);

    for (const p of plan) {
      expect(await fx.grantState(p.login.grant_id)).toEqual({ grantRevoked: true, liveAccess: 0, liveRefresh: 0, tokens: 2 });
      const audit = await fx.auditRows(p.login.grant_id);
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({ reason: p.reason, revoking_client_id: p.by, client_id: owner.client_id });
      const heard = events.filter((e) => e.grantId === p.login.grant_id);
      expect(heard).toHaveLength(1);
      expect(heard[0]).toMatchObject({ reason: p.reason, revokingClientId: p.by });
    }
    // The unknown tokens revoked nothing: every audit row of the owner's grants since the start is one of the plan's.
    const { rows } = await server.pool.query('SELECT grant_id FROM revocation_audit WHERE client_id = $1', [owner.client_id]);
    expect(rows.map((r) => r.grant_id).sort()).toEqual(plan.map((p) => p.login.grant_id).sort());
  });

  it('applies each request its own foreign-client policy inside one group', async () => {
    const service = server.app.get(RevocationService);
    const logins = await Promise.all(Array.from({ length: 9 }, () => fx.login(owner.client_id)));
    const policies = ['reject', 'ignore', 'revoke'] as const;
    const statements = watchStatements();
    let outcomes: string[];
    try {
      outcomes = await Promise.all(logins.map((l, i) => service.revokeToken(l.access_token, other.client_id, policies[i % 3])));
    } finally {
      statements.stop();
    }
    expect(outcomes).toEqual(logins.map((_, i) => ['foreign_reject', 'foreign_ignore', 'revoked'][i % 3]));
    expect(statements.sent.some((s) => s.name === 'oauth_revoke_tokens' && s.requests > 1)).toBe(true);
    for (const [i, l] of logins.entries()) {
      expect((await fx.grantState(l.grant_id)).grantRevoked).toBe(i % 3 === 2);
      expect(await fx.auditRows(l.grant_id)).toHaveLength(i % 3 === 2 ? 1 : 0);
    }
  });

  it('runs a group that failed again request by request: every caller still gets its own answer, and nothing is revoked twice', async () => {
    const logins = await Promise.all(Array.from({ length: 12 }, () => fx.login(owner.client_id)));
    const original = PreparedStatement.prototype.run;
    let failed = 0;
    const spy = jest.spyOn(PreparedStatement.prototype, 'run').mockImplementation(function (this: PreparedStatement<never>, ds, values) {
      if ((this as unknown as { name: string }).name === 'oauth_revoke_tokens') {
        failed++;
        return Promise.reject(Object.assign(new Error('deadlock detected'), { code: '40P01' }));
      }
      return original.call(this, ds, values);
    });
    let answers: number[];
    try {
      answers = (await Promise.all(logins.map((l, i) => revoke(i % 2 ? l.access_token : l.refresh_token, owner)))).map((r) => r.status);
    } finally {
      spy.mockRestore();
    }
    expect(failed).toBeGreaterThan(0);
    expect(answers).toEqual(logins.map(() => 200));
    for (const l of logins) {
      expect(await fx.grantState(l.grant_id)).toMatchObject({ grantRevoked: true, liveAccess: 0, liveRefresh: 0 });
      expect(await fx.auditRows(l.grant_id)).toHaveLength(1);
    }
  });

  (testDatabaseKind() === 'postgres' ? it : it.skip)(
    'does not wait for a grant another transaction holds: the rest of the group is answered at once, that request alone once the grant is free (PostgreSQL)',
    async () => {
      const service = server.app.get(RevocationService);
      const [first, held, ...free] = await Promise.all(Array.from({ length: 5 }, () => fx.login(owner.client_id)));
      const holder = await server.pool.connect();
      const statements = watchStatements();
      try {
        await holder.query('BEGIN');
        await holder.query('SELECT 1 FROM grants WHERE id = $1 FOR UPDATE', [held.grant_id]);
        // The first request runs alone; the others arrive meanwhile and go together in the next statement.
        const done = new Set<string>();
        const track = (login: IssuedGrant) => service.revokeToken(login.access_token, owner.client_id, 'revoke').then((outcome) => (done.add(login.grant_id), outcome));
        const answers = [first, held, ...free].map(track);
        await waitFor(async () => [first, ...free].every((l) => done.has(l.grant_id)), 5000, 'the requests whose grants are free');
        expect(done.has(held.grant_id)).toBe(false);
        expect(statements.sent.some((s) => s.name === 'oauth_revoke_tokens' && s.requests === 4)).toBe(true);
        for (const l of free) expect((await fx.grantState(l.grant_id)).grantRevoked).toBe(true);
        await holder.query('COMMIT');
        await expect(Promise.all(answers)).resolves.toEqual(['revoked', 'revoked', 'revoked', 'revoked', 'revoked']);
        expect(await fx.auditRows(held.grant_id)).toHaveLength(1);
      } finally {
        statements.stop();
        await holder.query('ROLLBACK').catch(() => undefined);
        holder.release();
      }
    },
  );

  (testDatabaseKind() === 'postgres' ? it : it.skip)(
    'never waits on a grant lock: two groups naming the same grants in opposite orders, while a third transaction holds one, both finish without it (PostgreSQL: real concurrency)',
    async () => {
      const [a, b, c] = [await server.pool.connect(), await server.pool.connect(), await server.pool.connect()];
      const sql = 'SELECT request, outcome FROM oauth_revoke_tokens($1::bytea[], $2::text[], $3::text[], $4::text[])';
      const group = (tokens: string[]) => [tokens.map(hashToken), tokens.map((t) => (t.startsWith('oat_') ? 'access_token' : 'refresh_token')), tokens.map(() => owner.client_id), tokens.map(() => 'revoke')];
      try {
        for (let round = 0; round < 3; round++) {
          const logins = await Promise.all(Array.from({ length: 12 }, () => fx.login(owner.client_id)));
          await c.query('BEGIN');
          await c.query('SELECT 1 FROM grants WHERE id = $1 FOR UPDATE', [logins[6].grant_id]);
          // Both groups must finish while the third session still holds its grant: nothing of theirs waits on it.
          const [ra, rb] = await Promise.all([a.query(sql, group(logins.map((l) => l.access_token))), b.query(sql, group(logins.map((l) => l.refresh_token).reverse()))]);
          const byGrant = (rows: Array<{ request: number; outcome: string }>, reversed: boolean) =>
            new Map(rows.map((r) => [logins[reversed ? logins.length - r.request : r.request - 1].grant_id, r.outcome]));
          const [oa, ob] = [byGrant(ra.rows, false), byGrant(rb.rows, true)];
          expect(oa.size).toBe(12);
          expect(ob.size).toBe(12);
          for (const [i, l] of logins.entries()) {
            const both = [oa.get(l.grant_id), ob.get(l.grant_id)].sort();
            if (i === 6) expect(both).toEqual(['deferred', 'deferred']);
            else expect(both.filter((o) => o === 'revoked')).toHaveLength(1); // once, by whichever group took it
          }
          await c.query('COMMIT');
          for (const [i, l] of logins.entries()) expect(await fx.auditRows(l.grant_id)).toHaveLength(i === 6 ? 0 : 1);
        }
      } finally {
        await c.query('ROLLBACK').catch(() => undefined);
        for (const client of [a, b, c]) client.release();
      }
    },
  );
});
