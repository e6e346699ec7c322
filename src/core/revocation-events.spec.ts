import type { DataSource } from 'typeorm';
import type { InvalidationListener } from '../database/invalidation-listener';
import { RevocationEvents } from './revocation-events';

/**
 * The outbox as the reads see it: rows appear when their transaction commits, whatever their id. Answers the
 * three statements RevocationEvents sends (startup, range read with gaps, read by id) from memory.
 */
class FakeOutbox {
  readonly committed = new Map<bigint, string>();
  private nextId = 1n;

  /** Takes an id now (the insert); the row appears when `commit` is called. */
  take(): { id: bigint; commit: () => void } {
    const id = this.nextId++;
    return { id, commit: () => this.committed.set(id, `grant-${id}`) };
  }

  jump(by: bigint): void {
    this.nextId += by;
  }

  query(sql: string, params: unknown[] = []): Array<Record<string, unknown>> {
    const rows = (ids: bigint[]) => ids.sort((a, b) => (a < b ? -1 : 1)).map((id) => ({
        id: String(id),
        grant_id: this.committed.get(id),
        ...(sql.includes('LEFT JOIN grants') ? { client_id: 'c', subject: '@u', scope: null, token_type: null, revoking_client_id: null, reason: 'admin', revoked_at: new Date(Number(id)) } : {}),
      }));
    const all = [...this.committed.keys()];
    if (sql.includes('max(id)')) {
      const newest = all.reduce((m, id) => (id > m ? id : m), 0n);
      return [{ newest: String(newest), present: all.filter((id) => id > newest - 1000n).map(String) }];
    }
    if (sql.includes('ARRAY(SELECT id')) {
      const [position, gaps] = params as [string, string[]];
      const next = all.filter((id) => id > BigInt(position)).sort((a, b) => (a < b ? -1 : 1)).slice(0, 1000);
      return rows([...next, ...gaps.map(BigInt).filter((id) => this.committed.has(id))]);
    }
    const [ids] = params as [string[]];
    return rows(ids.map(BigInt).filter((id) => this.committed.has(id)));
  }
}

function eventsOn(outbox: FakeOutbox) {
  const evicted: string[] = [];
  const runner = { connect: async () => undefined, release: async () => undefined, query: async (sql: string, params?: unknown[]) => outbox.query(sql, params) };
  const dataSource = { query: async (sql: string, params?: unknown[]) => outbox.query(sql, params), createQueryRunner: () => runner };
  const invalidation = {
    subscribe: () => () => undefined,
    receiving: true,
    active: true,
    evictGrant: (g: string) => void evicted.push(g),
    outboxRead: () => undefined,
    announce: async () => undefined,
  };
  const events = new RevocationEvents(dataSource as unknown as DataSource, invalidation as unknown as InvalidationListener);
  const internals = events as unknown as { catchUp(): void; catchingUp?: Promise<void>; position: bigint; gaps: Map<bigint, number> };
  const read = async () => {
    internals.catchUp();
    await internals.catchingUp;
  };
  return { events, evicted, read, internals };
}

describe('RevocationEvents reading the outbox', () => {
  it('finds a row that commits after rows with higher ids were read (its id was taken first)', async () => {
    const outbox = new FakeOutbox();
    const { events, evicted, read } = eventsOn(outbox);
    await events.onApplicationBootstrap();
    const late = outbox.take();
    const later = outbox.take();
    later.commit();
    await read();
    expect(evicted).toEqual(['grant-2']);
    late.commit();
    await read();
    expect(evicted).toEqual(['grant-2', 'grant-1']);
    await read();
    expect(evicted).toEqual(['grant-2', 'grant-1']); // once
    await events.onModuleDestroy();
  });

  it('after a jump wider than it keeps, still looks for the ids taken before the jump and just before the newest row', async () => {
    const outbox = new FakeOutbox();
    const { events, evicted, read, internals } = eventsOn(outbox);
    await events.onApplicationBootstrap();
    const beforeJump = outbox.take();
    outbox.jump(20_000n);
    const justBelow = outbox.take();
    const newest = outbox.take();
    newest.commit();
    await read();
    expect(internals.gaps.size).toBeLessThanOrEqual(10_000);
    beforeJump.commit();
    justBelow.commit();
    await read();
    expect(evicted.sort()).toEqual([`grant-${beforeJump.id}`, `grant-${justBelow.id}`, `grant-${newest.id}`].sort());
    await events.onModuleDestroy();
  });

  it('counts ids missing just below the newest row at startup as gaps', async () => {
    const outbox = new FakeOutbox();
    const open = outbox.take();
    outbox.take().commit();
    const { events, evicted, read } = eventsOn(outbox);
    await events.onApplicationBootstrap(); // the newest row (2) was committed before: not read again
    await read();
    expect(evicted).toEqual([]);
    open.commit();
    await read();
    expect(evicted).toEqual(['grant-1']);
    await events.onModuleDestroy();
  });

  it('a read by id (an r: notification) delivers its row without moving the position past rows not read yet', async () => {
    const outbox = new FakeOutbox();
    const { events, evicted, read, internals } = eventsOn(outbox);
    const heard: string[] = [];
    events.subscribe((e) => void heard.push(e.grantId));
    await events.onApplicationBootstrap();
    const first = outbox.take();
    const second = outbox.take();
    second.commit();
    events.evict(`r:${second.id}`);
    // The read by id runs 2 ms after the notification (to gather those that arrive together).
    for (let waited = 0; !heard.includes('grant-2') && waited < 1000; waited += 5) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(heard).toEqual(['grant-2']);
    expect(internals.position).toBe(0n);
    first.commit();
    await read();
    expect(evicted.sort()).toEqual(['grant-1', 'grant-2']);
    await new Promise((resolve) => setImmediate(resolve)); // listeners run detached
    expect(heard.sort()).toEqual(['grant-1', 'grant-2']); // each once
    await events.onModuleDestroy();
  });

  it("a revocation this process made is heard once, whether its outbox read comes before or after its own announcement", async () => {
    const outbox = new FakeOutbox();
    const { events, read } = eventsOn(outbox);
    const heard: string[] = [];
    events.subscribe((e) => void heard.push(e.grantId));
    await events.onApplicationBootstrap();
    // What the revoking path emits: the same revocation as the row (grant, reason, database time).
    const eventOf = (id: bigint) => ({ grantId: `grant-${id}`, clientId: 'c', subject: '@u', scope: '', tokenType: null, revokingClientId: null, reason: 'admin' as const, suspicious: false, revokedAt: new Date(Number(id)) });
    const settle = () => new Promise((resolve) => setImmediate(resolve)); // listeners run detached

    const announcedFirst = outbox.take();
    announcedFirst.commit();
    await events.emit(eventOf(announcedFirst.id));
    await read();
    await settle();
    expect(heard).toEqual([`grant-${announcedFirst.id}`]);

    const readFirst = outbox.take();
    readFirst.commit();
    await read(); // lands between the commit and the announcement
    await events.emit(eventOf(readFirst.id));
    await settle();
    expect(heard).toEqual([`grant-${announcedFirst.id}`, `grant-${readFirst.id}`]);
    await events.onModuleDestroy();
  });
});
