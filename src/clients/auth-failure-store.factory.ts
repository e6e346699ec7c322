import type { DataSource } from 'typeorm';
import type { AuthFailureStore } from './auth-failure-store.interface';
import { DEFAULT_AUTH_FAILURE_MEMORY_BYTES, MemoryAuthFailureStore } from './memory-auth-failure-store';
import { PostgresAuthFailureStore } from './postgres-auth-failure-store';

/**
 * Where the brute-force counters live: `memory` (per process; the default), `postgres` (the module's own
 * data source, shared by every instance on it), `{ redisUrl }` (shared through Redis), or a store of yours.
 */
export type AuthFailureStoreOption = 'memory' | 'postgres' | { redisUrl: string } | AuthFailureStore;

export async function createAuthFailureStore(
  option: AuthFailureStoreOption,
  dataSource: DataSource,
  memoryBytes = DEFAULT_AUTH_FAILURE_MEMORY_BYTES,
): Promise<AuthFailureStore> {
  if (option === 'memory') return new MemoryAuthFailureStore(memoryBytes);
  if (option === 'postgres') return new PostgresAuthFailureStore(dataSource);
  if ('redisUrl' in option) {
    // Loaded only when asked for, so hosts that do not use Redis never load its client. Not a declared peer:
    // TypeORM 0.3 declares an optional peer `redis` of older majors, and npm refuses the two together.
    let store: typeof import('./redis-auth-failure-store');
    try {
      store = await import('./redis-auth-failure-store');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') {
        throw new Error('The Redis brute-force store needs the `redis` package (tested with redis 6): npm install redis');
      }
      throw err;
    }
    return store.RedisAuthFailureStore.connect(option.redisUrl);
  }
  return option;
}
