import { AuthAttemptOutcome, AuthFailureStore, AuthFailureWindow, EMPTY_WINDOW } from './auth-failure-store.interface';

interface Entry {
  failures: number;
  pending: number;
  successes: number;
  endsAt: number;
}

/**
 * What one entry costs the heap, counted generously: the Map slot, the entry object with four numbers and a
 * key of at most MAX_KEY_LENGTH one-byte characters. The bound is kept on this count, so it holds whatever
 * the keys' values.
 */
export const MEMORY_ENTRY_BYTES = 256;
const MAX_KEY_LENGTH = 64;

export const DEFAULT_AUTH_FAILURE_MEMORY_BYTES = 16 * 1024 * 1024;

/**
 * The in-process store (one set of counters per instance): the default with the embedded database. Memory
 * is bounded in bytes: when full, ended windows go first, then the entries with the fewest failures, so a
 * live lock (the most failures) is only dropped after every cheaper entry.
 */
export class MemoryAuthFailureStore implements AuthFailureStore {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;

  constructor(
    readonly maxBytes: number = DEFAULT_AUTH_FAILURE_MEMORY_BYTES,
    private readonly now: () => number = Date.now,
  ) {
    this.maxEntries = Math.max(16, Math.floor(maxBytes / MEMORY_ENTRY_BYTES));
  }

  /** The bytes the entries are counted at; never above maxBytes. */
  get usedBytes(): number {
    return this.entries.size * MEMORY_ENTRY_BYTES;
  }

  get size(): number {
    return this.entries.size;
  }

  async begin(hit: readonly string[], read: readonly string[], windowMs: number): Promise<{ hit: AuthFailureWindow[]; read: AuthFailureWindow[] }> {
    const now = this.now();
    const hitWindows = hit.map((key) => {
      const e = this.live(key, now) ?? this.insert(key, now + windowMs, now);
      e.pending++;
      return this.window(e, now);
    });
    return { hit: hitWindows, read: read.map((key) => this.window(this.live(key, now), now)) };
  }

  async end(hit: readonly string[], outcome: AuthAttemptOutcome, alsoFail: readonly string[], windowMs: number): Promise<void> {
    const now = this.now();
    for (const key of hit) {
      const e = this.live(key, now);
      if (!e) continue;
      e.pending = Math.max(0, e.pending - 1);
      if (outcome === 'failure') e.failures++;
      else if (outcome === 'success') e.successes++;
    }
    if (outcome === 'failure') {
      for (const key of alsoFail) (this.live(key, now) ?? this.insert(key, now + windowMs, now)).failures++;
    }
  }

  async sweep(): Promise<void> {
    this.dropEnded(this.now());
  }

  async close(): Promise<void> {
    this.entries.clear();
  }

  private live(key: string, now: number): Entry | undefined {
    const e = this.entries.get(key);
    if (e && e.endsAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  private insert(key: string, endsAt: number, now: number): Entry {
    if (key.length > MAX_KEY_LENGTH) throw new Error('auth failure store keys are hashes of at most 64 characters');
    if (this.entries.size >= this.maxEntries) this.evict(now);
    const e: Entry = { failures: 0, pending: 0, successes: 0, endsAt };
    this.entries.set(key, e);
    return e;
  }

  private dropEnded(now: number): void {
    for (const [key, e] of this.entries) if (e.endsAt <= now) this.entries.delete(key);
  }

  /**
   * Frees a quarter of the room at once (so an attack pays this sort once per many inserts): ended windows,
   * then entries by failures, fewest first, and among equals those with nothing in flight first.
   */
  private evict(now: number): void {
    this.dropEnded(now);
    const target = Math.floor(this.maxEntries * 0.75);
    const excess = this.entries.size - target;
    if (excess <= 0) return;
    const ranked = [...this.entries].sort(([, a], [, b]) => a.failures - b.failures || a.pending - b.pending || a.endsAt - b.endsAt);
    for (let i = 0; i < excess; i++) this.entries.delete(ranked[i][0]);
  }

  private window(e: Entry | undefined, now: number): AuthFailureWindow {
    if (!e) return { ...EMPTY_WINDOW };
    return { failures: e.failures, pending: e.pending, successes: e.successes, resetInMs: Math.max(0, e.endsAt - now) };
  }
}
