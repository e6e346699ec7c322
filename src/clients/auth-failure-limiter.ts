import { createHash } from 'node:crypto';
import { Logger, OnModuleDestroy } from '@nestjs/common';
import { AuthAttemptOutcome, AuthFailureStore, AuthFailureWindow, EMPTY_WINDOW } from './auth-failure-store.interface';
import { CLIENT_ID_PATTERN } from './clients.service';

/**
 * Limits on failed client authentications (RFC 6749 §2.3.1, RFC 7009 §5: guard against brute force),
 * chosen so that a stranger cannot turn them against a client's owner. 0 disables a limit.
 */
export interface AuthFailureLimits {
  /** Failures allowed per (client id, remote address) within a window: the limit a guesser meets first. */
  perClientAddress: number;
  /** Failures allowed per remote address within a window, whatever client ids it tries. */
  perAddress: number;
  /**
   * Failures per client id within a window, from all addresses together: a ceiling only a distributed attack
   * reaches. Past it, addresses that already failed for that client id wait for the window's end; an address
   * with no failures for it is never held back by this ceiling.
   */
  perClient: number;
  windowSeconds: number;
}

export const DEFAULT_AUTH_FAILURE_LIMITS: Readonly<AuthFailureLimits> = Object.freeze({
  perClientAddress: 10,
  perAddress: 50,
  perClient: 1000,
  windowSeconds: 60,
});

/** A client authentication in progress, counted (as in flight) from before its secret is checked. */
export interface AuthAttempt {
  /** Seconds to wait when the attempt is refused (it then counts for nothing); 0 when it may go on. */
  readonly retryAfterSeconds: number;
  /** Records the outcome; never rejects (a store that fails only loses this count). */
  end(outcome: AuthAttemptOutcome): Promise<void>;
}

const UNCOUNTED: AuthAttempt = Object.freeze({ retryAfterSeconds: 0, end: async () => undefined });

/** Waits of an attempt that only attempts in flight hold back: 5, 10, … 320 ms, about 0.6 s in all. */
const FIRST_WAIT_MS = 5;
const LAST_WAIT_MS = 320;

/** How long this process trusts a clean (client id, address) pair without asking the store again. */
export const CLEAN_PAIR_TRUST_MS = 1000;
/** At most this many clean pairs are remembered; the oldest go first. */
const CLEAN_PAIRS_MAX = 10_000;
/** How long a failure is remembered against attempts that began before it (far longer than any attempt). */
const FAILURE_MEMORY_MS = 60_000;

/**
 * A short fixed-size key: stores never see a client id or an address, and an entry's size does not depend
 * on what a client sent (a 16 KB client id costs what a short one does).
 */
export function limiterKey(kind: 'p' | 'a' | 'c', ...parts: string[]): string {
  const h = createHash('sha256');
  for (const part of parts) h.update(part).update('\0');
  return `${kind}:${h.digest('base64url').slice(0, 22)}`;
}

/**
 * Counts client authentications that present a secret, in fixed windows kept by an AuthFailureStore
 * (in process, PostgreSQL or Redis). `@nestjs/throttler` is not used: its guard counts every request of a
 * route, while here only failures lock, attempts in flight are reserved, and a check must not count.
 *
 * The policy (README, Security notes):
 * - an attempt is reserved (counted as pending) before the secret is checked, so N concurrent guesses
 *   cannot all be checked against a limit below N;
 * - (client id, address) and address locks count failures; the client id alone only has a high ceiling,
 *   which holds back addresses that failed for it, so strangers cannot lock the owner out;
 * - a (client id, address) that succeeded in the window and never failed is not held back by attempts in
 *   flight: a busy resource server's concurrency is not a burst of guesses;
 * - such a clean pair is trusted by this process for up to CLEAN_PAIR_TRUST_MS (never past its window)
 *   without a store round trip: a busy client's every request would otherwise write the same two rows of a
 *   shared store, which serialises them (the bench measured a third of the throughput). Its first failure
 *   ends the trust in this process before the failure is answered, and is counted in the store as any
 *   failure; only the attempts of that pair already in flight in this process are checked without a
 *   reservation, and they count too. Another instance stops trusting the pair when its own trust ends.
 */
export class AuthFailureLimiter implements OnModuleDestroy {
  private readonly logger = new Logger('AuthFailureLimiter');
  private readonly windowMs: number;
  private readonly timer?: NodeJS.Timeout;
  private readonly active: boolean;
  /** Clean pairs (see the class comment): key of the pair → when this process stops trusting it. */
  private readonly clean = new Map<string, number>();
  /** Pair key → when this process last saw it fail: an attempt begun before that makes nothing clean. */
  private readonly failedAt = new Map<string, number>();

  constructor(
    private readonly limits: AuthFailureLimits,
    readonly store: AuthFailureStore,
    options: { sweepIntervalMs?: number } = {},
  ) {
    this.windowMs = limits.windowSeconds * 1000;
    this.active = limits.perClientAddress > 0 || limits.perAddress > 0 || limits.perClient > 0;
    if (this.active) {
      // Ended windows are dropped on a timer, not only when looked up again; unref'd, so it never keeps
      // a process alive, and stopped on module destroy.
      this.timer = setInterval(() => void this.sweep(), options.sweepIntervalMs ?? Math.min(this.windowMs, 60_000));
      this.timer.unref();
    }
  }

  /**
   * Begins an authentication that presents a secret for `clientId` from `address`. A client id that no
   * client can have (CLIENT_ID_PATTERN) creates no state: it can never authenticate, so there is nothing to
   * guess, and an attacker cannot fill memory with unique ids.
   */
  async begin(clientId: string, address: string | undefined): Promise<AuthAttempt> {
    if (!this.active || !CLIENT_ID_PATTERN.test(clientId)) return UNCOUNTED;
    const from = address ?? '';
    const pair = limiterKey('p', clientId, from);
    const trustedUntil = this.clean.get(pair);
    if (trustedUntil !== undefined) {
      // A clean pair's success needs no other key: they are hashed only if it fails.
      if (trustedUntil > Date.now()) return this.trusted(pair, clientId, from);
      this.clean.delete(pair);
    }
    const { hit, read } = this.keys(pair, clientId, from);
    for (let wait = FIRST_WAIT_MS; ; wait *= 2) {
      const state = await this.store.begin(hit, read, this.windowMs);
      const verdict = this.decide(state.hit[0], state.hit[1] ?? EMPTY_WINDOW, state.read[0] ?? EMPTY_WINDOW);
      if (verdict === 'go') return this.attempt(hit, read, state.hit[0]);
      await this.store.end(hit, 'abandoned', [], this.windowMs);
      if (verdict !== 'busy') return refused(verdict);
      // Only attempts in flight stand in the way: wait for them to end, within a bound.
      if (wait > LAST_WAIT_MS) return refused(1000);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  /** 'go', 'busy' (attempts in flight fill the allowance), or the milliseconds until a lock ends. */
  protected decide(pair: AuthFailureWindow, byAddress: AuthFailureWindow, client: AuthFailureWindow): 'go' | 'busy' | number {
    const { perClientAddress, perAddress, perClient } = this.limits;
    if (perClientAddress > 0 && pair.failures >= perClientAddress) return pair.resetInMs;
    if (perAddress > 0 && byAddress.failures >= perAddress) return byAddress.resetInMs;
    // The ceiling holds back only addresses that failed for this client id: a correct secret from an
    // address with no failures is never refused, however many strangers guess elsewhere.
    if (perClient > 0 && client.failures >= perClient && pair.failures > 0) return client.resetInMs;
    if (pair.successes > 0 && pair.failures === 0) return 'go';
    const over = (w: AuthFailureWindow, limit: number) => limit > 0 && w.failures + w.pending > limit;
    return over(pair, perClientAddress) || over(byAddress, perAddress) ? 'busy' : 'go';
  }

  onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    this.clean.clear();
    this.failedAt.clear();
    return this.store.close();
  }

  /** Drops ended windows now (the timer calls this); a store that fails is tried again next time. */
  async sweep(): Promise<void> {
    const now = Date.now();
    for (const [key, until] of this.clean) if (until <= now) this.clean.delete(key);
    for (const [key, at] of this.failedAt) if (at <= now - FAILURE_MEMORY_MS) this.failedAt.delete(key);
    try {
      await this.store.sweep();
    } catch (err) {
      this.logger.debug(`Sweeping ended windows failed: ${(err as Error).message}`);
    }
  }

  /**
   * An attempt reserved in the store. A success of a pair that had no failures in its window makes the pair
   * clean: trusted by this process for a while (see the class comment).
   */
  private attempt(hit: string[], alsoFail: string[], pair: AuthFailureWindow): AuthAttempt {
    const began = Date.now();
    let ended = false;
    return {
      retryAfterSeconds: 0,
      end: async (outcome) => {
        if (ended) return;
        ended = true;
        // Clean only if the store saw no failure when this attempt began, and this process saw none since.
        const failedSince = (this.failedAt.get(hit[0]) ?? -Infinity) >= began;
        if (outcome === 'success' && pair.failures === 0 && pair.resetInMs > 0 && !failedSince) this.trust(hit[0], pair.resetInMs);
        if (outcome === 'failure') this.failed(hit[0]);
        await this.record(hit, outcome, alsoFail);
      },
    };
  }

  /** Only the keys a limit reads: the (client id, address) key always (its failures and successes decide). */
  private keys(pair: string, clientId: string, from: string): { hit: string[]; read: string[] } {
    return {
      hit: this.limits.perAddress > 0 ? [pair, limiterKey('a', from)] : [pair],
      read: this.limits.perClient > 0 ? [limiterKey('c', clientId)] : [],
    };
  }

  /** An attempt of a clean pair: nothing reserved; only a failure reaches the store (counted on every key). */
  private trusted(pair: string, clientId: string, from: string): AuthAttempt {
    let ended = false;
    return {
      retryAfterSeconds: 0,
      end: async (outcome) => {
        if (ended || outcome !== 'failure') return;
        ended = true;
        // Synchronously, before the failure is answered: the pair's next attempt is reserved again.
        this.failed(pair);
        const { hit, read } = this.keys(pair, clientId, from);
        await this.record([], 'failure', [...hit, ...read]);
      },
    };
  }

  private failed(pairKey: string): void {
    this.clean.delete(pairKey);
    this.failedAt.delete(pairKey);
    if (this.failedAt.size >= CLEAN_PAIRS_MAX) this.failedAt.delete(this.failedAt.keys().next().value as string);
    this.failedAt.set(pairKey, Date.now());
  }

  private trust(pairKey: string, resetInMs: number): void {
    if (this.clean.size >= CLEAN_PAIRS_MAX && !this.clean.has(pairKey)) {
      this.clean.delete(this.clean.keys().next().value as string);
    }
    this.clean.set(pairKey, Date.now() + Math.min(CLEAN_PAIR_TRUST_MS, resetInMs));
  }

  /** Never rejects: a store that fails only loses this count. */
  private async record(hit: string[], outcome: AuthAttemptOutcome, alsoFail: string[]): Promise<void> {
    try {
      await this.store.end(hit, outcome, alsoFail, this.windowMs);
    } catch (err) {
      this.logger.debug(`Recording an authentication outcome failed: ${(err as Error).message}`);
    }
  }
}

function refused(ms: number): AuthAttempt {
  return { retryAfterSeconds: Math.max(1, Math.ceil(ms / 1000)), end: async () => undefined };
}
