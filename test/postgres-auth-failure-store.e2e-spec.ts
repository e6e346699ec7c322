import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { limiterKey } from '../src/clients/auth-failure-limiter';
import { PostgresAuthFailureStore } from '../src/clients/postgres-auth-failure-store';
import { testDatabaseKind } from './support/test-database';
import { startTestServer, TestServer } from './support/test-app';

// PGlite runs one statement at a time: only a real server can show a lock cycle.
(testDatabaseKind() === 'postgres' ? describe : describe.skip)('the brute-force counters in PostgreSQL under concurrent attempts', () => {
  let server: TestServer;
  let store: PostgresAuthFailureStore;

  beforeAll(async () => {
    server = await startTestServer();
    store = new PostgresAuthFailureStore(server.app.get(DataSource));
  });
  afterAll(() => server.close());

  /** The limiter's three keys of one (client id, address), as it makes them: a: < c: < p: in key order. */
  const keysOf = () => {
    const [client, from] = [`c-${randomBytes(4).toString('hex')}`, `127.0.${randomBytes(1)[0]}.1`];
    return { pair: limiterKey('p', client, from), address: limiterKey('a', from), client: limiterKey('c', client) };
  };

  /**
   * 32 callers at once, each `rounds` times: an attempt reserved on (pair, address) that ends in success or in
   * a failure also counted on the client key, and now and then the failure of a trusted pair (nothing
   * reserved, all three keys counted), as the limiter sends them. Answers what each kind did, and the errors.
   */
  async function hammer(keys: ReturnType<typeof keysOf>, windowMs: number, rounds: number) {
    const done = { successes: 0, failures: 0 };
    const errors: unknown[] = [];
    const one = async (n: number) => {
      if (n % 5 === 4) {
        await store.end([], 'failure', [keys.pair, keys.address, keys.client], windowMs);
        done.failures++;
        return;
      }
      await store.begin([keys.pair, keys.address], [keys.client], windowMs);
      const outcome = n % 3 === 0 ? 'failure' : 'success';
      await store.end([keys.pair, keys.address], outcome, outcome === 'failure' ? [keys.client] : [], windowMs);
      done[outcome === 'failure' ? 'failures' : 'successes']++;
    };
    // The pair's row first in the table, the address's after it: a scan in table order meets them out of key order.
    await store.begin([keys.pair], [], windowMs);
    await store.end([keys.pair], 'abandoned', [], windowMs);
    await store.begin([keys.address], [], windowMs);
    await store.end([keys.address], 'abandoned', [], windowMs);
    await Promise.all(
      Array.from({ length: 32 }, async (_, w) => {
        for (let i = 0; i < rounds; i++) await one(w + i).catch((err) => errors.push(err));
      }),
    );
    return { done, errors: errors.map((e) => (e as { code?: string }).code ?? (e as Error).message) };
  }

  it('never deadlock, and count every attempt: reservations, their ends and trusted failures on the same keys at once', async () => {
    const keys = keysOf();
    const { done, errors } = await hammer(keys, 300_000, 10);
    expect(errors).toEqual([]);
    const { rows } = await server.pool.query('SELECT key, failures, pending, successes FROM auth_failure_windows WHERE key = ANY($1) ORDER BY key', [
      [keys.pair, keys.address, keys.client],
    ]);
    const byKey = Object.fromEntries(rows.map((r) => [r.key, r]));
    expect(byKey[keys.pair]).toEqual({ key: keys.pair, failures: done.failures, pending: 0, successes: done.successes });
    expect(byKey[keys.address]).toEqual({ key: keys.address, failures: done.failures, pending: 0, successes: done.successes });
    expect(byKey[keys.client]).toMatchObject({ failures: done.failures });
  });

  it('never deadlock with the sweep: windows of 40 ms keep ending while attempts renew them and sweeps delete them', async () => {
    let sweeping = true;
    const sweepErrors: unknown[] = [];
    const sweeper = (async () => {
      while (sweeping) await store.sweep().catch((err) => sweepErrors.push(err));
    })();
    const { errors } = await hammer(keysOf(), 40, 10);
    sweeping = false;
    await sweeper;
    expect([...errors, ...sweepErrors]).toEqual([]);
  });
});
