import { AuthFailureLimiter } from './auth-failure-limiter';

describe('AuthFailureLimiter', () => {
  let now = 1_000_000;
  const clock = () => now;

  it('locks a client id after the allowed failures, until the window ends', () => {
    const limiter = new AuthFailureLimiter({ perClient: 3, perAddress: 0, windowSeconds: 60 }, clock);
    for (let i = 0; i < 3; i++) {
      expect(limiter.retryAfter('a', '10.0.0.1')).toBe(0);
      limiter.recordFailure('a', '10.0.0.1');
    }
    expect(limiter.retryAfter('a', '10.0.0.2')).toBe(60);
    expect(limiter.retryAfter('b', '10.0.0.1')).toBe(0);
    now += 45_000;
    expect(limiter.retryAfter('a', undefined)).toBe(15);
    now += 15_000;
    expect(limiter.retryAfter('a', undefined)).toBe(0);
  });

  it('locks an address after the allowed failures, whatever client ids it tries', () => {
    const limiter = new AuthFailureLimiter({ perClient: 0, perAddress: 2, windowSeconds: 10 }, clock);
    limiter.recordFailure('x', '192.0.2.7');
    limiter.recordFailure('y', '192.0.2.7');
    expect(limiter.retryAfter('z', '192.0.2.7')).toBe(10);
    expect(limiter.retryAfter('z', '192.0.2.8')).toBe(0);
  });

  it('with both limits at 0 never locks', () => {
    const limiter = new AuthFailureLimiter({ perClient: 0, perAddress: 0, windowSeconds: 10 }, clock);
    for (let i = 0; i < 100; i++) limiter.recordFailure('a', 'b');
    expect(limiter.retryAfter('a', 'b')).toBe(0);
  });

  it('stays bounded in memory under a flood of distinct client ids', () => {
    const limiter = new AuthFailureLimiter({ perClient: 5, perAddress: 0, windowSeconds: 600 }, clock);
    for (let i = 0; i < 250_000; i++) limiter.recordFailure(`id-${i}`, undefined);
    expect((limiter as unknown as { windows: Map<string, unknown> }).windows.size).toBeLessThanOrEqual(100_000);
  });
});
