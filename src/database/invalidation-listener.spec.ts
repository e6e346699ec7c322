import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { ANNOUNCE_WAIT_MS, InvalidationListener, OUTBOX_READ_LEASE_MS, subscriberPayloads } from './invalidation-listener';

describe('invalidation payloads as subscribers hear them', () => {
  const grant = '0b9f6c1e-6d1e-4f3c-9a43-2f1d8f0a7b11';

  it('split a revocation audit row into its grant (for the caches) and its audit id (for the events)', () => {
    expect(subscriberPayloads(`r:42:${grant}`)).toEqual([`g:${grant}`, 'r:42']);
  });

  it('pass every other payload on as it is', () => {
    for (const payload of [`g:${grant}`, 'c:client-1', 'f:', 'r:42']) expect(subscriberPayloads(payload)).toEqual([payload]);
  });
});

describe('announcing revocations after commit', () => {
  const grants = ['g-1', 'g-2', 'g-3', 'g-4'];

  /** A data source whose queries finish when the test says so. */
  function fakeDataSource() {
    const queries: Array<{ params: unknown[]; finish: (err?: Error) => void }> = [];
    const dataSource = {
      query: (_sql: string, params: unknown[]) =>
        new Promise<void>((resolve, reject) => queries.push({ params, finish: (err) => (err ? reject(err) : resolve()) })),
    };
    return { queries, listener: new InvalidationListener(dataSource as unknown as DataSource, { enabled: false }) };
  }
  const tick = () => new Promise((r) => setImmediate(r));

  it('evicts the grant from this instance at once, and sends what is asked during a batch in flight as the next batch', async () => {
    const { queries, listener } = fakeDataSource();
    const evicted: string[] = [];
    listener.subscribe({ evict: (p) => void evicted.push(p), flush: () => undefined });
    const first = listener.announce([grants[0]]);
    expect(evicted).toEqual(['g:g-1']);
    await tick();
    expect(queries.map((q) => q.params[0])).toEqual([['g:g-1']]);
    let laterSent = false;
    const later = Promise.all([listener.announce([grants[1]]), listener.announce([grants[2], grants[3]])]).then(() => (laterSent = true));
    await tick();
    expect(queries).toHaveLength(1); // waits for the batch in flight
    queries[0].finish();
    await first;
    await tick();
    expect(queries.map((q) => q.params[0])).toEqual([['g:g-1'], ['g:g-2', 'g:g-3', 'g:g-4']]);
    expect(laterSent).toBe(false);
    queries[1].finish();
    await later;
    expect(evicted).toEqual(['g:g-1', 'g:g-2', 'g:g-3', 'g:g-4']);
  });

  it('resolves when the announcement fails (the outbox carries it), logging once however many fail', async () => {
    const { queries, listener } = fakeDataSource();
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const one = listener.announce([grants[0]]);
      await tick();
      queries[0].finish(new Error('connection terminated'));
      await expect(one).resolves.toBeUndefined();
      const two = listener.announce([grants[1]]);
      await tick();
      queries[1].finish(new Error('connection terminated'));
      await two;
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toMatch(/Could not announce 1 revocation\(s\); every instance reads them from the outbox instead: connection terminated/);
    } finally {
      warn.mockRestore();
    }
  });

  it('stops holding the answer back after ANNOUNCE_WAIT_MS when the pool does not answer, and sends what came meanwhile', async () => {
    const { queries, listener } = fakeDataSource();
    const began = performance.now();
    await listener.announce([grants[0]]); // its query never finishes
    expect(performance.now() - began).toBeGreaterThanOrEqual(ANNOUNCE_WAIT_MS - 5);
    const next = listener.announce([grants[1]]);
    await tick();
    expect(queries.map((q) => q.params[0])).toEqual([['g:g-1'], ['g:g-2']]);
    queries[1].finish();
    await next;
  });

  it('answers from the caches only while the outbox has been read within the lease', () => {
    const { listener } = fakeDataSource();
    (listener as unknown as { listening: boolean }).listening = true;
    expect(listener.active).toBe(false); // listening, but the outbox never read
    listener.outboxRead(performance.now());
    expect(listener.active).toBe(true);
    listener.outboxRead(performance.now() - OUTBOX_READ_LEASE_MS - 1); // an older read changes nothing
    expect(listener.active).toBe(true);
    const stale = fakeDataSource().listener;
    (stale as unknown as { listening: boolean }).listening = true;
    stale.outboxRead(performance.now() - OUTBOX_READ_LEASE_MS - 1);
    expect(stale.active).toBe(false);
  });
});
