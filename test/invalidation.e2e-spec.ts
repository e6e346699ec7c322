import request from 'supertest';
import type { CreatedClient } from '../src/clients/clients.service';
import { Client } from 'pg';
import { ANNOUNCE_AFTER_COMMIT_OPTION, INVALIDATION_CHANNEL, InvalidationListener } from '../src/database/invalidation-listener';
import { RevocationEvents } from '../src/core/revocation-events';
import { runAdmin } from './support/admin-cli';
import { Fixtures } from './support/fixtures';
import { waitFor } from './support/processes';
import { TcpProxy } from './support/tcp-proxy';
import { startTestServer, TestServer } from './support/test-app';
import { testDatabaseKind, testDatabaseUrl } from './support/test-database';
import { OAuthCalls } from './support/token-fixtures';

const onPostgres = testDatabaseKind() === 'postgres';

/** Introspection on an instance answers from its cache when it can: the check every resource server makes. */
async function active(server: TestServer, token: string, rs: CreatedClient): Promise<boolean> {
  const res = await new OAuthCalls(request(server.app.getHttpServer())).introspect(token, rs);
  expect(res.status).toBe(200);
  return res.body.active as boolean;
}

/** What PostgreSQL sends on the channel, as any listener receives it (InvalidationListener splits r: for its subscribers), heartbeats left out. */
async function listenRaw(): Promise<{ heard: string[]; listening: Client }> {
  const heard: string[] = [];
  const listening = new Client({ connectionString: testDatabaseUrl() });
  await listening.connect();
  listening.on('notification', (n) => void (n.payload && !n.payload.startsWith('h:') && heard.push(n.payload)));
  await listening.query(`LISTEN ${INVALIDATION_CHANNEL}`);
  return { heard, listening };
}

/**
 * Runs `test` with a session like the server's (it leaves each revocation's notification to its process,
 * which here never sends it) and what the channel carries meanwhile; rolls back what it left open.
 */
async function withUnannouncedSession(test: (session: Client, heard: string[]) => Promise<void>): Promise<void> {
  const { heard, listening } = await listenRaw();
  const session = new Client({ connectionString: testDatabaseUrl(), options: ANNOUNCE_AFTER_COMMIT_OPTION });
  await session.connect();
  try {
    await test(session, heard);
  } finally {
    await session.query('ROLLBACK').catch(() => undefined);
    await session.end();
    await listening.end();
  }
}

/** The id of a grant's revocation audit row (the outbox). */
async function auditIdOf(server: TestServer, grantId: string): Promise<string> {
  const [row] = (await server.pool.query<{ id: string }>('SELECT id::text AS id FROM revocation_audit WHERE grant_id = $1', [grantId])).rows;
  return row.id;
}

/**
 * Waits (within `ms`) until every one of `servers` answers `token` inactive while its caches were answering
 * throughout the check: the cached answer was evicted, not merely bypassed.
 */
async function refusedBy(servers: TestServer[], token: string, rs: CreatedClient, ms: number, what: string): Promise<void> {
  const refusedFromCache = async (s: TestServer) => {
    const listener = s.app.get(InvalidationListener);
    const answering = listener.active;
    const live = await active(s, token, rs);
    return answering && listener.active && !live;
  };
  await waitFor(async () => (await Promise.all(servers.map(refusedFromCache))).every(Boolean), ms, what);
}

(onPostgres ? describe : describe.skip)('revocation reaches every instance at once (LISTEN/NOTIFY-invalidated caches, PostgreSQL)', () => {
  let a: TestServer;
  let b: TestServer;
  let proxy: TcpProxy;
  let fx: Fixtures;
  let app: CreatedClient;
  let rs: CreatedClient;

  beforeAll(async () => {
    proxy = await TcpProxy.start(testDatabaseUrl());
    a = await startTestServer();
    // B listens through a proxy the test can cut, while its queries go straight to the database.
    b = await startTestServer({ DATABASE_LISTEN_URL: proxy.url(testDatabaseUrl()) });
    fx = new Fixtures(a.app, a.pool);
    app = await fx.client('none');
    rs = await fx.client('client_secret_basic');
    await waitFor(async () => b.app.get(InvalidationListener).active && a.app.get(InvalidationListener).active, 10_000, 'both listeners');
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await proxy.stop();
  });

  /** A new grant whose access token both instances have checked (and cached). */
  async function cachedOnBoth(): Promise<Awaited<ReturnType<Fixtures['login']>>> {
    const login = await fx.login(app.client_id);
    expect(await active(a, login.access_token, rs)).toBe(true);
    expect(await active(b, login.access_token, rs)).toBe(true);
    return login;
  }

  it('answers a repeated check from memory: a change the triggers do not announce is not seen until the entry goes', async () => {
    const login = await fx.login(app.client_id);
    expect(await active(b, login.access_token, rs)).toBe(true);
    // Not a revocation (no notification): only a cache hit can still answer active.
    await a.pool.query(`UPDATE access_tokens SET expires_at = now() - interval '1 second' WHERE grant_id = $1`, [login.grant_id]);
    expect(await active(b, login.access_token, rs)).toBe(true);
    expect(await active(a, login.access_token, rs)).toBe(false);
  });

  it('B hears of a revocation within 100 ms of A answering 200, in the worst of 200 trials, and refuses the token from then on', async () => {
    // When B's listener hears each grant's eviction: the propagation itself, without the jitter of polling B over HTTP.
    const heardAt = new Map<string, number>();
    // The first time only: B's outbox read repeats each one a moment later.
    const off = b.app.get(InvalidationListener).subscribe({ evict: (p) => void (p.startsWith('g:') && !heardAt.has(p.slice(2)) && heardAt.set(p.slice(2), Date.now())), flush: () => undefined });
    const delays: number[] = [];
    try {
      for (let i = 0; i < 200; i++) {
        const login = await fx.login(app.client_id);
        expect(await active(b, login.access_token, rs)).toBe(true); // cached on B
        const revoked = await new OAuthCalls(request(a.app.getHttpServer())).revoke(login.access_token, app);
        expect(revoked.status).toBe(200);
        const answeredAt = Date.now();
        await waitFor(async () => heardAt.has(login.grant_id), 2_000, 'B to hear of the revocation');
        delays.push(Math.max(0, heardAt.get(login.grant_id)! - answeredAt));
        expect(await active(b, login.access_token, rs)).toBe(false);
      }
    } finally {
      off();
    }
    delays.sort((x, y) => x - y);
    process.stdout.write(`propagation A→B over 200 trials (ms after A's 200): p50 ${delays[100]}, p99 ${delays[198]}, max ${delays[199]}\n`);
    expect(delays[199]).toBeLessThan(100);
  }, 120_000);

  it('a revocation from the admin CLI, another process, reaches both instances', async () => {
    const login = await fx.login(app.client_id);
    expect(await active(a, login.access_token, rs)).toBe(true);
    expect(await active(b, login.access_token, rs)).toBe(true);
    expect((await runAdmin(['grant:revoke', '--grant', login.grant_id])).json).toEqual({ grant_id: login.grant_id, revoked: true });
    expect(await active(a, login.access_token, rs)).toBe(false);
    expect(await active(b, login.access_token, rs)).toBe(false);
  });

  it('a revocation through the server sends one notification, after its commit, naming the grant; from another session its audit row names it; a revocation by hand after that in the same transaction still sends its own', async () => {
    const { heard, listening } = await listenRaw();
    const grantIn = (p: string) => (p.startsWith('g:') ? p.slice(2) : p.startsWith('r:') ? p.split(':')[2] : undefined);
    try {
      const login = await fx.login(app.client_id);
      const other = await fx.login(app.client_id);
      const third = await fx.login(app.client_id);
      expect(await active(b, login.access_token, rs)).toBe(true);
      expect(await active(b, other.access_token, rs)).toBe(true);
      expect(await active(b, third.access_token, rs)).toBe(true);
      expect((await new OAuthCalls(request(a.app.getHttpServer())).revoke(login.refresh_token, app)).status).toBe(200);
      const audits = await a.pool.query('SELECT 1 FROM revocation_audit WHERE grant_id = $1', [login.grant_id]);
      expect(audits.rowCount).toBe(1); // the outbox has it, though its own notification was not sent
      await waitFor(async () => heard.some((p) => grantIn(p) === login.grant_id), 2_000, 'the revocation notification');
      // One transaction of a session without the setting (the test's own, as psql's): the revocation
      // function, then an operator's own UPDATE of another grant's access token.
      const tx = await a.pool.connect();
      try {
        await tx.query('BEGIN');
        await tx.query(`SELECT * FROM oauth_revoke_grant($1, NULL, NULL, 'admin')`, [other.grant_id]);
        await tx.query('UPDATE access_tokens SET revoked_at = now() WHERE grant_id = $1', [third.grant_id]);
        await tx.query('COMMIT');
      } finally {
        tx.release();
      }
      await waitFor(async () => heard.some((p) => p === `g:${third.grant_id}`), 2_000, 'the notification of the revocation by hand');
      const otherAudit = await auditIdOf(a, other.grant_id);
      const about = (grant: string) => heard.filter((p) => grantIn(p) === grant);
      expect(about(login.grant_id)).toEqual([`g:${login.grant_id}`]);
      expect(about(other.grant_id)).toEqual([`r:${otherAudit}:${other.grant_id}`]);
      expect(about(third.grant_id)).toEqual([`g:${third.grant_id}`]);
      // Each one evicted B's cached answer.
      expect(await active(b, login.access_token, rs)).toBe(false);
      expect(await active(b, other.access_token, rs)).toBe(false);
      expect(await active(b, third.access_token, rs)).toBe(false);
    } finally {
      await listening.end();
    }
  });

  it('a revocation whose announcement never comes (its process died after the commit) still reaches every cache, through the outbox', async () => {
    await withUnannouncedSession(async (session, heard) => {
      const login = await cachedOnBoth();
      const [row] = (await session.query(`SELECT outcome FROM oauth_revoke_grant($1, NULL, NULL, 'admin')`, [login.grant_id])).rows;
      expect(row.outcome).toBe('revoked');
      // Both instances read it from the outbox within a tick (250 ms) and evict it.
      await refusedBy([a, b], login.access_token, rs, 1_000, 'both instances to read the revocation from the outbox');
      // No notification carried it (one sent at its commit would have arrived long before the outbox was read).
      expect(heard.filter((p) => p.includes(login.grant_id))).toEqual([]);
    });
  });

  it('a revocation that commits after later ones were read (its audit id taken first), unannounced, still reaches every cache', async () => {
    await withUnannouncedSession(async (session, heard) => {
      const late = await cachedOnBoth();
      await session.query('BEGIN');
      const [taken] = (await session.query(`SELECT outcome FROM oauth_revoke_grant($1, NULL, NULL, 'admin')`, [late.grant_id])).rows;
      expect(taken.outcome).toBe('revoked'); // its audit row has its id, not yet committed
      // Ids are taken far ahead meanwhile (many revocations elsewhere, say, or rolled back): no fixed margin of
      // ids behind the newest row read would still cover this one.
      await a.pool.query(`SELECT setval(pg_get_serial_sequence('revocation_audit', 'id'), nextval(pg_get_serial_sequence('revocation_audit', 'id')) + 2000)`);
      // A later revocation through A commits, and both instances read the outbox past it.
      const later = await fx.login(app.client_id);
      expect((await new OAuthCalls(request(a.app.getHttpServer())).revoke(later.access_token, app)).status).toBe(200);
      const laterAudit = BigInt(await auditIdOf(a, later.grant_id));
      const readPast = (s: TestServer) => (s.app.get(RevocationEvents) as unknown as { position: bigint }).position >= laterAudit;
      await waitFor(async () => readPast(a) && readPast(b), 2_000, 'both instances to read past the later revocation');
      expect(await active(b, late.access_token, rs)).toBe(true); // still live: nothing committed yet
      await session.query('COMMIT');
      // No notification (the session leaves it to a process that never sends it): only the outbox tells them.
      await refusedBy([a, b], late.access_token, rs, 1_000, 'both instances to find the late commit');
      expect(heard.filter((p) => p.includes(late.grant_id))).toEqual([]);
    });
  });

  it('an instance started while a revocation was open (its audit id taken before) finds it when it commits, unannounced', async () => {
    let c: TestServer | undefined;
    await withUnannouncedSession(async (session) => {
      const late = await fx.login(app.client_id);
      // Checked once before: its first use is recorded (a check would otherwise wait for the grant's row lock).
      expect(await active(a, late.access_token, rs)).toBe(true);
      await session.query('BEGIN');
      await session.query(`SELECT outcome FROM oauth_revoke_grant($1, NULL, NULL, 'admin')`, [late.grant_id]);
      // A revocation committed after it, so that the newest row at C's start is newer than the open one.
      const later = await fx.login(app.client_id);
      expect((await new OAuthCalls(request(a.app.getHttpServer())).revoke(later.access_token, app)).status).toBe(200);
      c = await startTestServer();
      const started = c;
      await waitFor(async () => started.app.get(InvalidationListener).active, 5_000, "C's caches to answer");
      expect(await active(c, late.access_token, rs)).toBe(true); // cached on C, before the commit
      await session.query('COMMIT');
      await refusedBy([started], late.access_token, rs, 1_000, 'C to find the commit');
    }).finally(() => c?.close());
  });

  it('caches are bypassed while the outbox cannot be read, and answer again once it can', async () => {
    const login = await fx.login(app.client_id);
    expect(await active(b, login.access_token, rs)).toBe(true);
    const blocker = await a.pool.connect();
    try {
      // The outbox reads of both instances wait behind this lock: their lease runs out.
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE revocation_audit IN ACCESS EXCLUSIVE MODE');
      await waitFor(async () => !b.app.get(InvalidationListener).active, 3_000, "B's caches to be bypassed");
      expect(b.app.get(InvalidationListener).receiving).toBe(true); // notifications still arrive: the outbox alone is missing
      // A change no notification announces is seen at once: the check went to the database.
      await a.pool.query(`UPDATE access_tokens SET expires_at = now() - interval '1 second' WHERE grant_id = $1`, [login.grant_id]);
      expect(await active(b, login.access_token, rs)).toBe(false);
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
    }
    await waitFor(async () => b.app.get(InvalidationListener).active, 3_000, "B's caches to answer again");
  });

  it('deleting a live grant outright (no revocation) evicts its tokens everywhere too', async () => {
    const login = await fx.login(app.client_id);
    expect(await active(b, login.access_token, rs)).toBe(true);
    await a.pool.query('DELETE FROM grants WHERE id = $1', [login.grant_id]);
    await waitFor(async () => !(await active(b, login.access_token, rs)), 1_000, 'B to forget the deleted grant');
  });

  it('disabling a client takes effect on every instance: its cached record is evicted', async () => {
    const owner = await fx.client('client_secret_basic');
    const calls = new OAuthCalls(request(b.app.getHttpServer()));
    expect((await calls.clientCredentials(owner)).status).toBe(200); // B caches the client record
    await a.pool.query('UPDATE clients SET disabled_at = now() WHERE client_id = $1', [owner.client_id]);
    await waitFor(async () => (await calls.clientCredentials(owner)).status === 401, 1_000, 'B to refuse the disabled client');
  });

  it('while the listener is cut, B bypasses its cache (never stale), and after it reconnects it is still right', async () => {
    const login = await fx.login(app.client_id);
    const later = await fx.login(app.client_id);
    expect(await active(b, login.access_token, rs)).toBe(true);
    expect(await active(b, later.access_token, rs)).toBe(true);
    proxy.cut();
    await waitFor(async () => !b.app.get(InvalidationListener).active, 5_000, "B's listener to notice the cut");
    // Revoked while B hears nothing: B asks the database, so it refuses at once.
    expect((await new OAuthCalls(request(a.app.getHttpServer())).revoke(login.access_token, app)).status).toBe(200);
    expect(await active(b, login.access_token, rs)).toBe(false);
    expect(await active(b, later.access_token, rs)).toBe(true);
    proxy.restore();
    await waitFor(async () => b.app.get(InvalidationListener).active, 10_000, "B's listener to come back");
    expect(await active(b, login.access_token, rs)).toBe(false);
    // A revocation after the reconnect is heard again.
    expect((await new OAuthCalls(request(a.app.getHttpServer())).revoke(later.access_token, app)).status).toBe(200);
    expect(await active(b, later.access_token, rs)).toBe(false);
  }, 60_000);
});

(onPostgres ? describe.skip : describe)('on the embedded database', () => {
  it('caches nothing: the listener never becomes active, and a change no notification announces is seen at once', async () => {
    const server = await startTestServer();
    try {
      // The listener decided at bootstrap (startTestServer returns after it): PGlite, so never active.
      expect(server.app.get(InvalidationListener).active).toBe(false);
      const fx = new Fixtures(server.app, server.pool);
      const app = await fx.client('none');
      const rs = await fx.client('client_secret_basic');
      const login = await fx.login(app.client_id);
      expect(await active(server, login.access_token, rs)).toBe(true);
      expect(await active(server, login.access_token, rs)).toBe(true);
      // Not a revocation: no notification. A cached answer would still say active (see the PostgreSQL twin).
      await server.pool.query(`UPDATE access_tokens SET expires_at = now() - interval '1 second' WHERE grant_id = $1`, [login.grant_id]);
      expect(await active(server, login.access_token, rs)).toBe(false);
      expect(server.app.get(InvalidationListener).active).toBe(false);
    } finally {
      await server.close();
    }
  });
});

(onPostgres ? describe : describe.skip)('client changes from the admin CLI reach every instance (PostgreSQL)', () => {
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    a = await startTestServer();
    b = await startTestServer();
    await waitFor(async () => b.app.get(InvalidationListener).active, 10_000, "B's listener");
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it('client:rotate-secret prints a new secret once; the old one stops working on an instance that cached the client', async () => {
    const owner = await new Fixtures(a.app, a.pool).client('client_secret_basic');
    const onB = new OAuthCalls(request(b.app.getHttpServer()));
    expect((await onB.clientCredentials(owner)).status).toBe(200);
    const rotated = await runAdmin(['client:rotate-secret', '--id', owner.client_id]);
    expect(rotated.json).toEqual({ client_id: owner.client_id, client_secret: expect.any(String) });
    const secret = rotated.json!.client_secret as string;
    expect(secret).not.toBe(owner.client_secret);
    await waitFor(async () => (await onB.clientCredentials(owner)).status === 401, 1_000, 'B to refuse the old secret');
    expect((await onB.clientCredentials({ ...owner, client_secret: secret })).status).toBe(200);
    const stored = await a.pool.query('SELECT secret_hash FROM clients WHERE client_id = $1', [owner.client_id]);
    expect(stored.rows[0].secret_hash).not.toContain(secret);
  });

  it('client:delete revokes its grants (audit rows stay) and its tokens stop working everywhere', async () => {
    const fx = new Fixtures(a.app, a.pool);
    const app = await fx.client('none');
    const rs = await fx.client('client_secret_basic');
    const login = await fx.login(app.client_id);
    expect(await active(b, login.access_token, rs)).toBe(true);
    expect((await runAdmin(['client:delete', '--id', app.client_id])).json).toEqual({ client_id: app.client_id, deleted: true });
    expect(await active(b, login.access_token, rs)).toBe(false);
    expect(await fx.auditRows(login.grant_id)).toEqual([{ reason: 'admin', token_type: null, revoking_client_id: null, client_id: app.client_id }]);
    expect((await a.pool.query('SELECT count(*)::int AS n FROM grants WHERE client_id = $1', [app.client_id])).rows[0].n).toBe(0);
  });
});
