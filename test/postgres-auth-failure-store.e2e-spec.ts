import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { PostgresAuthFailureStore } from '../src/clients/postgres-auth-failure-store';
import { startTestServer, TestServer } from './support/test-app';

describe('the brute-force counters in PostgreSQL under concurrent attempts', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('never deadlock: many attempts on the same keys at once, their ends, and sweeps of ended windows all succeed', async () => {
    const store = new PostgresAuthFailureStore(server.app.get(DataSource));
    const key = () => randomBytes(16).toString('hex');
    // The larger key's row first in the table: a scan in table order then meets the keys in the other order.
    const [pair, address] = [key(), key()].sort().reverse();
    const client = key();
    await store.begin([pair], [], 40);
    await store.begin([address], [], 40);
    const failures: unknown[] = [];
    const attempt = async (i: number) => {
      // Windows of 40 ms: they keep ending, so the sweep keeps deleting rows that attempts are renewing.
      await store.begin([pair, address], [client], 40);
      const outcome = i % 3 === 0 ? 'failure' : 'success';
      await store.end([pair, address], outcome, outcome === 'failure' ? [client] : [], 40);
    };
    const worker = async (w: number) => {
      for (let i = 0; i < 25; i++) await attempt(w + i).catch((err) => failures.push(err));
    };
    let sweeping = true;
    const sweeper = (async () => {
      while (sweeping) await store.sweep().catch((err) => failures.push(err));
    })();
    await Promise.all(Array.from({ length: 32 }, (_, w) => worker(w)));
    sweeping = false;
    await sweeper;
    expect(failures.map((e) => (e as { code?: string; message?: string }).code ?? (e as Error).message)).toEqual([]);
  });
});
