/** Limits on failed client authentications (RFC 6749 §2.3.1, RFC 7009 §5: guard against brute force). */
export interface AuthFailureLimits {
  /** Failures allowed per client id within a window; 0 disables the limit. */
  perClient: number;
  /** Failures allowed per remote address within a window; 0 disables the limit. */
  perAddress: number;
  windowSeconds: number;
}

export const DEFAULT_AUTH_FAILURE_LIMITS: Readonly<AuthFailureLimits> = Object.freeze({ perClient: 10, perAddress: 50, windowSeconds: 60 });

interface Window {
  failures: number;
  endsAt: number;
}

/**
 * Counts failed client authentications per client id and per remote address in fixed windows, in memory
 * (per process). Checking costs a map lookup and counts nothing, so successful requests stay cheap.
 * `@nestjs/throttler` is not used: its guard counts every request of a route, and its storage can only
 * count; here only failures count, keyed by client id and address, and a check must not count.
 */
export class AuthFailureLimiter {
  private readonly windows = new Map<string, Window>();
  private static readonly MAX_ENTRIES = 100_000;

  constructor(
    private readonly limits: AuthFailureLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until the caller may try again, or 0 when neither its client id nor its address is locked. */
  retryAfter(clientId: string, address: string | undefined): number {
    const wait = Math.max(this.lockedFor(`c:${clientId}`, this.limits.perClient), address ? this.lockedFor(`a:${address}`, this.limits.perAddress) : 0);
    return wait > 0 ? Math.ceil(wait / 1000) : 0;
  }

  recordFailure(clientId: string, address: string | undefined): void {
    if (this.limits.perClient > 0) this.bump(`c:${clientId}`);
    if (this.limits.perAddress > 0 && address) this.bump(`a:${address}`);
  }

  private lockedFor(key: string, limit: number): number {
    if (limit <= 0) return 0;
    const w = this.windows.get(key);
    if (!w) return 0;
    const left = w.endsAt - this.now();
    if (left <= 0) {
      this.windows.delete(key);
      return 0;
    }
    return w.failures >= limit ? left : 0;
  }

  private bump(key: string): void {
    const now = this.now();
    const w = this.windows.get(key);
    if (w && w.endsAt > now) {
      w.failures++;
      return;
    }
    if (this.windows.size >= AuthFailureLimiter.MAX_ENTRIES) this.sweep(now);
    this.windows.set(key, { failures: 1, endsAt: now + this.limits.windowSeconds * 1000 });
  }

  /** Drops finished windows; if an attack keeps them all live, the oldest go first (a bounded map). */
  private sweep(now: number): void {
    for (const [key, w] of this.windows) if (w.endsAt <= now) this.windows.delete(key);
    const excess = this.windows.size - AuthFailureLimiter.MAX_ENTRIES / 2;
    if (excess > 0) {
      let n = 0;
      for (const key of this.windows.keys()) {
        if (n++ >= excess) break;
        this.windows.delete(key);
      }
    }
  }
}
