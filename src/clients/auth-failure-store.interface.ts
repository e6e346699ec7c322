/** One key's current window in an AuthFailureStore: zeros when the key has no live window. */
export interface AuthFailureWindow {
  /** Failed authentications counted in the window. */
  failures: number;
  /** Attempts begun and not yet ended (in flight): counted before the secret is checked. */
  pending: number;
  /** Successful authentications in the window. */
  successes: number;
  /** Milliseconds until the window ends (0 when there is none). */
  resetInMs: number;
}

export type AuthAttemptOutcome = 'failure' | 'success' | 'abandoned';

/**
 * Where the brute-force limiter keeps its fixed-window counters. Keys are short hashes (the limiter never
 * hands a store a client id or an address), so every entry has a bounded size. Implementations: in process
 * (MemoryAuthFailureStore), PostgreSQL (PostgresAuthFailureStore: shared by every instance on one database),
 * Redis (RedisAuthFailureStore). Each operation is one round trip and atomic per key.
 */
export interface AuthFailureStore {
  /**
   * Begins an attempt: `pending + 1` on every key of `hit` (a key whose window ended starts a new one of
   * `windowMs`), then answers the windows of `hit` (after the increment) and of `read` (unchanged), in order.
   */
  begin(hit: readonly string[], read: readonly string[], windowMs: number): Promise<{ hit: AuthFailureWindow[]; read: AuthFailureWindow[] }>;
  /**
   * Ends an attempt begun on `hit`: `pending - 1` on each, plus a failure or a success (`abandoned`: neither).
   * A failure is also counted on every key of `alsoFail`, whose window starts if needed.
   */
  end(hit: readonly string[], outcome: AuthAttemptOutcome, alsoFail: readonly string[], windowMs: number): Promise<void>;
  /** Drops ended windows; the limiter calls it on a timer. */
  sweep(): Promise<void>;
  close(): Promise<void>;
}

export const EMPTY_WINDOW: Readonly<AuthFailureWindow> = Object.freeze({ failures: 0, pending: 0, successes: 0, resetInMs: 0 });
