import { DEFAULT_AUTH_FAILURE_LIMITS } from '../clients/auth-failure-limiter';
import { DEFAULT_AUTH_FAILURE_MEMORY_BYTES } from '../clients/memory-auth-failure-store';
import { DEFAULT_TOKEN_PREFIXES } from '../grants/token-format';
import type { OAuthCoreOptions, ResolvedOAuthCoreOptions } from './oauth-core-options.interface';

/** Fills in every default of the core options (see OAuthCoreOptions). */
export function resolveCoreOptions(options: OAuthCoreOptions): ResolvedOAuthCoreOptions {
  return {
    issuer: options.issuer.replace(/\/+$/, ''),
    tokenPrefixes: options.tokenPrefixes ?? DEFAULT_TOKEN_PREFIXES,
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 3600,
    refreshTokenTtlSeconds: options.refreshTokenTtlSeconds ?? 30 * 24 * 3600,
    retention: {
      days: options.retention?.days ?? 30,
      cleanupIntervalSeconds: options.retention?.cleanupIntervalSeconds ?? 0,
      cleanupBatchSize: options.retention?.cleanupBatchSize ?? 1000,
    },
    authFailureLimits: { ...DEFAULT_AUTH_FAILURE_LIMITS, ...options.authFailureLimits },
    cache: {
      ttlSeconds: atLeast(options.cache?.ttlSeconds ?? 300, 0, 'cache.ttlSeconds'),
      maxEntries: atLeast(options.cache?.maxEntries ?? 10_000, 1, 'cache.maxEntries'),
      listenUrl: options.cache?.listenUrl,
    },
    authFailureStore: options.authFailureStore ?? 'memory',
    authFailureMemoryBytes: options.authFailureMemoryBytes ?? DEFAULT_AUTH_FAILURE_MEMORY_BYTES,
  };
}

function atLeast(value: number, min: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`OAuthCoreModule option ${name} must be a whole number of at least ${min}`);
  return value;
}
