import type { InvalidationListener, InvalidationSubscriber } from './invalidation-listener';

/** How the per-process caches of token checks and client records behave (OAuthCoreModule option `cache`). */
export interface CacheSettings {
  /** Longest a cached answer lives, in seconds; 0 turns caching off. Default 300. */
  ttlSeconds: number;
  /** Most entries per cache. Default 10,000. */
  maxEntries: number;
  /** Where the invalidation listener connects, when not where the pool does. */
  listenUrl?: string;
}

export interface InvalidatedCacheOptions {
  /** Most entries kept; the least recently used go first. */
  maxEntries: number;
  /** Longest an entry lives, in ms; 0 disables the cache. */
  ttlMs: number;
}

/**
 * A bounded LRU cache whose entries the database's invalidation notifications evict (see
 * InvalidationListener). It answers only while the listener is active; otherwise every lookup goes to
 * the database. A lookup that started before an eviction or flush does not store its answer: it may have
 * read the state the eviction was about, so only answers read entirely after the last eviction are kept.
 */
export class InvalidatedCache<V> implements InvalidationSubscriber {
  private readonly entries = new Map<string, { value: V; until: number; tags: string[] }>();
  private readonly tagged = new Map<string, Set<string>>();
  private generation = 0;

  constructor(
    private readonly listener: InvalidationListener,
    private readonly options: InvalidatedCacheOptions,
    /** Which payloads evict everything (e.g. any client change for token answers). */
    private readonly flushOn: (payload: string) => boolean = () => false,
  ) {
    listener.subscribe(this);
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * The cached value, or `load()`'s answer, stored under `tags` (payloads that evict it) until `until(value)`
   * or the TTL, whichever comes first. `load` answering undefined stores nothing.
   */
  async get(key: string, load: () => Promise<V | undefined>, describe: (value: V) => { tags: string[]; until: number }): Promise<V | undefined> {
    const usable = this.options.ttlMs > 0 && this.listener.active;
    if (usable) {
      const hit = this.entries.get(key);
      if (hit && hit.until > Date.now()) {
        this.entries.delete(key);
        this.entries.set(key, hit); // most recently used last
        return hit.value;
      }
      if (hit) this.remove(key);
    }
    const generation = this.generation;
    const value = await load();
    if (value !== undefined && usable && this.listener.active && generation === this.generation) {
      const { tags, until } = describe(value);
      this.put(key, value, tags, Math.min(until, Date.now() + this.options.ttlMs));
    }
    return value;
  }

  evict(payload: string): void {
    // Only grant and client changes concern cached answers (`r:` announces a revocation event).
    if (payload === 'f:') return this.flush();
    if (!payload.startsWith('g:') && !payload.startsWith('c:')) return;
    this.generation++;
    if (this.flushOn(payload)) return this.flush();
    const keys = this.tagged.get(payload);
    if (keys) for (const key of [...keys]) this.remove(key);
  }

  flush(): void {
    this.generation++;
    this.entries.clear();
    this.tagged.clear();
  }

  private put(key: string, value: V, tags: string[], until: number): void {
    if (until <= Date.now()) return;
    this.remove(key);
    while (this.entries.size >= this.options.maxEntries) this.remove(this.entries.keys().next().value as string);
    this.entries.set(key, { value, until, tags });
    for (const tag of tags) {
      let keys = this.tagged.get(tag);
      if (!keys) this.tagged.set(tag, (keys = new Set()));
      keys.add(key);
    }
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    for (const tag of entry.tags) {
      const keys = this.tagged.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) this.tagged.delete(tag);
    }
  }
}
