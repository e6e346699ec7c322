import { spawn, ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { RevocationEvents } from '../src/core/revocation-events';
import type { RevocationEvent } from '../src/core/revocation-event';
import { runAdmin } from './support/admin-cli';
import { Fixtures } from './support/fixtures';
import { waitFor } from './support/processes';
import { startTestServer, TestServer, uniqueId } from './support/test-app';
import { testDatabaseKind, testDatabaseUrl } from './support/test-database';
import { OAuthCalls } from './support/token-fixtures';

const onPostgres = testDatabaseKind() === 'postgres';

describe('durable revocation events (the audit table as outbox)', () => {
  let a: TestServer;
  let fx: Fixtures;

  beforeAll(async () => {
    a = await startTestServer();
    fx = new Fixtures(a.app, a.pool);
  });
  afterAll(() => a.close());

  it("a revocation made by the admin CLI, another process, reaches the running server's listeners", async () => {
    const app = await fx.client('none');
    const login = await fx.login(app.client_id);
    const heard: RevocationEvent[] = [];
    const off = a.app.get(RevocationEvents).subscribe((e) => void heard.push(e));
    try {
      expect((await runAdmin(['grant:revoke', '--grant', login.grant_id])).json).toEqual({ grant_id: login.grant_id, revoked: true });
      await waitFor(async () => heard.some((e) => e.grantId === login.grant_id), 10_000, 'the CLI revocation event');
      expect(heard.filter((e) => e.grantId === login.grant_id)).toEqual([
        expect.objectContaining({ reason: 'admin', suspicious: false, clientId: app.client_id, scope: 'openid', tokenType: null, revokedAt: expect.any(Date) }),
      ]);
    } finally {
      off();
    }
  }, 60_000);

  (onPostgres ? it : it.skip)('a once-per-cluster listener on two instances runs exactly once per event', async () => {
    const b = await startTestServer();
    const name = uniqueId('cluster');
    const calls: Array<{ on: string; grantId: string }> = [];
    const offA = a.app.get(RevocationEvents).subscribeOnce(name, (e) => void calls.push({ on: 'a', grantId: e.grantId }));
    const offB = b.app.get(RevocationEvents).subscribeOnce(name, (e) => void calls.push({ on: 'b', grantId: e.grantId }));
    try {
      await waitFor(async () => (await a.pool.query('SELECT 1 FROM revocation_event_listeners WHERE listener = $1', [name])).rowCount === 1, 5_000, 'the listener row');
      const app = await fx.client('none');
      const grants: string[] = [];
      for (let i = 0; i < 20; i++) {
        const login = await fx.login(app.client_id);
        grants.push(login.grant_id);
        const via = i % 2 === 0 ? a : b;
        expect((await new OAuthCalls(request(via.app.getHttpServer())).revoke(login.access_token, app)).status).toBe(200);
      }
      await waitFor(async () => grants.every((g) => calls.some((c) => c.grantId === g)), 20_000, 'every event delivered');
      // Each delivery is recorded with the listener's lock held; none failed.
      const delivered = await a.pool.query(
        `SELECT count(*)::int AS n FROM revocation_event_deliveries d JOIN revocation_audit r ON r.id = d.audit_id WHERE d.listener = $1 AND r.grant_id = ANY ($2)`,
        [name, grants],
      );
      expect(delivered.rows[0].n).toBe(20);
      expect((await a.pool.query('SELECT failures::int AS failures FROM revocation_event_listeners WHERE listener = $1', [name])).rows).toEqual([{ failures: 0 }]);
      expect(calls.filter((c) => grants.includes(c.grantId)).map((c) => c.grantId).sort()).toEqual([...grants].sort());
    } finally {
      offA();
      offB();
      await b.close();
    }
  }, 60_000);

  (onPostgres ? it : it.skip)('an event whose delivery was cut by kill -9 is delivered by the restarted process', async () => {
    const output = join(tmpdir(), `events-${randomBytes(4).toString('hex')}.log`);
    const host = (mode?: string): Promise<ChildProcess> =>
      new Promise((resolve, reject) => {
        const child = spawn('node', ['test/fixtures/event-listener-host.cjs', testDatabaseUrl(), output, ...(mode ? [mode] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
        child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve(child));
        child.once('exit', (code) => reject(new Error(`host exited with ${code} before it was ready`)));
      });
    const app = await fx.client('none');
    const login = await fx.login(app.client_id);
    const crashing = await host('crash');
    const killed = new Promise<NodeJS.Signals | null>((resolve) => crashing.once('exit', (_code, signal) => resolve(signal)));
    // Its listener row must exist before the revocation, so that it is owed this event.
    await waitFor(async () => (await a.pool.query(`SELECT 1 FROM revocation_event_listeners WHERE listener = $1`, [`audit-log-${output.split('/').pop()}`])).rowCount === 1, 10_000, 'the listener row');
    expect((await new OAuthCalls(request(a.app.getHttpServer())).revoke(login.access_token, app)).status).toBe(200);
    expect(await killed).toBe('SIGKILL');
    expect(existsSync(output)).toBe(false);
    const restarted = await host();
    try {
      await waitFor(async () => existsSync(output) && readFileSync(output, 'utf8').includes(login.grant_id), 15_000, 'the delivery after the restart');
      expect(readFileSync(output, 'utf8').trim().split('\n')).toEqual([login.grant_id]);
    } finally {
      restarted.kill('SIGTERM');
      await new Promise((resolve) => restarted.once('exit', resolve));
    }
  }, 60_000);

  it('delivers every event of a burst larger than one page of the outbox', async () => {
    const clientId = uniqueId('burst');
    const heard = new Set<string>();
    const off = a.app.get(RevocationEvents).subscribe((e) => void (e.clientId === clientId && heard.add(e.grantId)));
    try {
      // 1,100 revocations committed at once, by someone else (as another instance's would be).
      await a.pool.query(
        `INSERT INTO revocation_audit (grant_id, client_id, reason) SELECT gen_random_uuid(), $1, 'admin' FROM generate_series(1, 1100)`,
        [clientId],
      );
      await waitFor(async () => heard.size === 1100, 20_000, 'all 1,100 events');
    } finally {
      off();
    }
  }, 60_000);

  it('counts a failing listener in the health output, and keeps delivering to the others', async () => {
    const events = a.app.get(RevocationEvents);
    const before = events.stats().failedDeliveries;
    const heard: string[] = [];
    const offBad = events.subscribe(() => {
      throw new Error('listener broke');
    });
    const offGood = events.subscribe((e) => void heard.push(e.grantId));
    try {
      const app = await fx.client('none');
      const login = await fx.login(app.client_id);
      await new OAuthCalls(request(a.app.getHttpServer())).revoke(login.access_token, app);
      await waitFor(async () => heard.includes(login.grant_id) && events.stats().failedDeliveries > before, 5_000, 'both listeners');
      const health = await request(a.app.getHttpServer()).get('/health');
      expect(health.body).toEqual({ status: 'ok', revocation_events: { failed_deliveries: events.stats().failedDeliveries } });
    } finally {
      offBad();
      offGood();
    }
  });
});
