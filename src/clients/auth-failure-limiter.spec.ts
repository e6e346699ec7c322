import { AuthFailureLimiter, AuthFailureLimits, CLEAN_PAIR_TRUST_MS, limiterKey } from './auth-failure-limiter';
import { MEMORY_ENTRY_BYTES, MemoryAuthFailureStore } from './memory-auth-failure-store';

const limits = (l: Partial<AuthFailureLimits>): AuthFailureLimits => ({ perClientAddress: 3, perAddress: 0, perClient: 0, windowSeconds: 60, ...l });

/** One authentication as the guard runs it: reserve, check (asynchronously, like the lookup), record. */
async function authenticate(limiter: AuthFailureLimiter, clientId: string, address: string, correct: boolean): Promise<200 | 401 | 429> {
  const attempt = await limiter.begin(clientId, address);
  if (attempt.retryAfterSeconds > 0) return 429;
  await new Promise((resolve) => setImmediate(resolve));
  await attempt.end(correct ? 'success' : 'failure');
  return correct ? 200 : 401;
}

describe('AuthFailureLimiter', () => {
  const made: AuthFailureLimiter[] = [];
  const limiter = (l: Partial<AuthFailureLimits>, store = new MemoryAuthFailureStore()) => {
    const x = new AuthFailureLimiter(limits(l), store);
    made.push(x);
    return x;
  };
  afterEach(async () => {
    jest.useRealTimers();
    await Promise.all(made.splice(0).map((x) => x.onModuleDestroy()));
  });

  it('locks a (client id, address) after its failures, while the same client id from another address still authenticates', async () => {
    const l = limiter({ perClientAddress: 3 });
    for (let i = 0; i < 3; i++) expect(await authenticate(l, 'app', '10.0.0.1', false)).toBe(401);
    expect(await authenticate(l, 'app', '10.0.0.1', true)).toBe(429);
    expect(await authenticate(l, 'app', '10.0.0.2', true)).toBe(200);
    const refused = await l.begin('app', '10.0.0.1');
    expect(refused.retryAfterSeconds).toBeGreaterThan(55);
    expect(refused.retryAfterSeconds).toBeLessThanOrEqual(60);
  });

  it('locks an address after its failures across client ids', async () => {
    const l = limiter({ perClientAddress: 0, perAddress: 2 });
    expect(await authenticate(l, 'x', '192.0.2.7', false)).toBe(401);
    expect(await authenticate(l, 'y', '192.0.2.7', false)).toBe(401);
    expect(await authenticate(l, 'z', '192.0.2.7', true)).toBe(429);
    expect(await authenticate(l, 'z', '192.0.2.8', true)).toBe(200);
  });

  it('cannot be turned against the owner: past the per-client-id ceiling only addresses that failed for it wait', async () => {
    const l = limiter({ perClientAddress: 10, perAddress: 0, perClient: 20 });
    // A distributed attack: 25 addresses, one failure each, reaches the ceiling of 20.
    for (let i = 0; i < 25; i++) expect(await authenticate(l, 'resource-server', `203.0.113.${i}`, false)).toBe(401);
    expect(await authenticate(l, 'resource-server', '203.0.113.1', false)).toBe(429);
    expect(await authenticate(l, 'resource-server', '203.0.113.1', true)).toBe(429);
    // The owner, from an address with no failures, is never refused.
    for (let i = 0; i < 5; i++) expect(await authenticate(l, 'resource-server', '198.51.100.1', true)).toBe(200);
  });

  it('reserves attempts before the check: of 1,000 concurrent wrong secrets from one address, only the limit get checked', async () => {
    const l = limiter({ perClientAddress: 10 });
    const answers = await Promise.all(Array.from({ length: 1000 }, () => authenticate(l, 'app', '10.0.0.9', false)));
    expect(answers.filter((a) => a === 401)).toHaveLength(10);
    expect(answers.filter((a) => a === 429)).toHaveLength(990);
  });

  it('does not hold back the concurrency of a client that proved its secret from that address and never failed', async () => {
    const l = limiter({ perClientAddress: 3, perAddress: 5 });
    expect(await authenticate(l, 'busy', '10.0.0.3', true)).toBe(200);
    const answers = await Promise.all(Array.from({ length: 200 }, () => authenticate(l, 'busy', '10.0.0.3', true)));
    expect(new Set(answers)).toEqual(new Set([200]));
  });

  it('lets a first burst of correct secrets through by waiting for the attempts in flight, not by refusing them', async () => {
    const l = limiter({ perClientAddress: 3 });
    const answers = await Promise.all(Array.from({ length: 12 }, () => authenticate(l, 'fresh', '10.0.0.4', true)));
    expect(new Set(answers)).toEqual(new Set([200]));
  });

  it('keeps no state for client ids no client can have, and stays within its byte bound under 20,000 unique ids', async () => {
    const store = new MemoryAuthFailureStore(256 * 1024);
    const l = limiter({ perClientAddress: 5, perAddress: 0, perClient: 100 }, store);
    for (let i = 0; i < 20_000; i++) await authenticate(l, `${i}-${'x'.repeat(16_000)}`, `127.0.${i % 256}.1`, false);
    for (let i = 0; i < 1000; i++) await authenticate(l, `bad id ${i}`, '127.0.0.1', false);
    expect(store.size).toBe(0);
    for (let i = 0; i < 20_000; i++) await authenticate(l, `${i}-${'y'.repeat(250)}`, `127.0.${i % 256}.1`, false);
    expect(store.usedBytes).toBeLessThanOrEqual(256 * 1024);
    expect(store.size).toBeGreaterThan(0);
  });

  it('hands stores short fixed-size keys, whatever the client id', () => {
    expect(limiterKey('p', 'x'.repeat(255), '2001:db8::1')).toHaveLength(24);
    expect(limiterKey('c', 'a')).toHaveLength(24);
    expect(limiterKey('p', 'a', 'b')).not.toBe(limiterKey('p', 'ab', ''));
  });

  it('evicts cheaper entries before a live lock when its memory is full', async () => {
    const store = new MemoryAuthFailureStore(64 * MEMORY_ENTRY_BYTES);
    const l = limiter({ perClientAddress: 3, perAddress: 0, perClient: 0 }, store);
    for (let i = 0; i < 3; i++) await authenticate(l, 'victim-target', '10.9.9.9', false);
    expect(await authenticate(l, 'victim-target', '10.9.9.9', false)).toBe(429);
    // 5,000 cheap failures from 2,500 other (client id, address) pairs: far more than the store holds.
    for (let i = 0; i < 5000; i++) await authenticate(l, `c${i % 2500}`, `10.1.${i % 250}.${i % 7}`, false);
    expect(store.size).toBeLessThanOrEqual(64);
    expect(await authenticate(l, 'victim-target', '10.9.9.9', false)).toBe(429);
  });

  it('drops ended windows on its timer, without being asked about them again', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const store = new MemoryAuthFailureStore();
    const l = limiter({ perClientAddress: 3, windowSeconds: 10 }, store);
    const attempt = await l.begin('app', '10.0.0.1');
    await attempt.end('failure');
    expect(store.size).toBeGreaterThan(0);
    await jest.advanceTimersByTimeAsync(20_000);
    expect(store.size).toBe(0);
  });

  it('stops its timer when the module is destroyed', async () => {
    jest.useFakeTimers();
    const before = jest.getTimerCount();
    const l = new AuthFailureLimiter(limits({}), new MemoryAuthFailureStore());
    expect(jest.getTimerCount()).toBe(before + 1);
    await l.onModuleDestroy();
    expect(jest.getTimerCount()).toBe(before);
  });

  describe('clean pairs: a (client id, address) that proved its secret and never failed', () => {
    /** A memory store that counts the round trips the limiter makes to it. */
    const counted = () => {
      const store = new MemoryAuthFailureStore();
      const calls = { begin: 0, end: 0 };
      const begin = store.begin.bind(store);
      const end = store.end.bind(store);
      store.begin = (...a) => (calls.begin++, begin(...a));
      store.end = (...a) => (calls.end++, end(...a));
      return { store, calls };
    };

    it('is trusted without a store round trip for the rest of the trust period, then asked about again', async () => {
      const { store, calls } = counted();
      const l = limiter({ perClientAddress: 3, perAddress: 5, perClient: 100 }, store);
      expect(await authenticate(l, 'busy', '10.0.0.3', true)).toBe(200);
      expect(calls).toEqual({ begin: 1, end: 1 });
      for (let i = 0; i < 50; i++) expect(await authenticate(l, 'busy', '10.0.0.3', true)).toBe(200);
      expect(calls).toEqual({ begin: 1, end: 1 });
      // Another address of the same client id is not trusted by it.
      expect(await authenticate(l, 'busy', '10.0.0.4', true)).toBe(200);
      expect(calls).toEqual({ begin: 2, end: 2 });
      const now = Date.now();
      const clock = jest.spyOn(Date, 'now').mockReturnValue(now + CLEAN_PAIR_TRUST_MS + 1);
      try {
        expect(await authenticate(l, 'busy', '10.0.0.3', true)).toBe(200);
        expect(calls).toEqual({ begin: 3, end: 3 });
      } finally {
        clock.mockRestore();
      }
    });

    it('loses the trust at its first failure, which is counted on every key, and its next attempts are reserved again', async () => {
      const { store, calls } = counted();
      const l = limiter({ perClientAddress: 3, perAddress: 5, perClient: 100 }, store);
      expect(await authenticate(l, 'busy', '10.0.0.3', true)).toBe(200);
      expect(await authenticate(l, 'busy', '10.0.0.3', false)).toBe(401);
      expect(calls).toEqual({ begin: 1, end: 2 });
      const windows = await store.begin([], [limiterKey('p', 'busy', '10.0.0.3'), limiterKey('a', '10.0.0.3'), limiterKey('c', 'busy')], 60_000);
      expect(windows.read.map((w) => w.failures)).toEqual([1, 1, 1]);
      // Reserved again: the concurrent guesses of a pair that failed meet its limit.
      const answers = await Promise.all(Array.from({ length: 20 }, () => authenticate(l, 'busy', '10.0.0.3', false)));
      expect(answers.filter((a) => a === 401)).toHaveLength(2);
      expect(await authenticate(l, 'busy', '10.0.0.3', true)).toBe(429);
    });

    it('is not made by a success that began before a failure of the same pair', async () => {
      const { store, calls } = counted();
      const l = limiter({ perClientAddress: 3 }, store);
      const slow = await l.begin('app', '10.0.0.6');
      const quick = await l.begin('app', '10.0.0.6');
      await quick.end('failure');
      await slow.end('success');
      expect(calls).toEqual({ begin: 2, end: 2 });
      expect(await authenticate(l, 'app', '10.0.0.6', true)).toBe(200);
      expect(calls).toEqual({ begin: 3, end: 3 });
    });

    it('is not made by a success of a pair that failed in its window', async () => {
      const { store, calls } = counted();
      const l = limiter({ perClientAddress: 3 }, store);
      expect(await authenticate(l, 'app', '10.0.0.5', false)).toBe(401);
      expect(await authenticate(l, 'app', '10.0.0.5', true)).toBe(200);
      expect(await authenticate(l, 'app', '10.0.0.5', true)).toBe(200);
      expect(calls).toEqual({ begin: 3, end: 3 });
    });
  });

  it('with every limit at 0 never refuses and keeps nothing', async () => {
    const store = new MemoryAuthFailureStore();
    const l = limiter({ perClientAddress: 0, perAddress: 0, perClient: 0 }, store);
    for (let i = 0; i < 100; i++) expect(await authenticate(l, 'a', 'b', false)).toBe(401);
    expect(store.size).toBe(0);
  });
});
