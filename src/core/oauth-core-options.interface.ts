import type { AuthFailureLimits } from '../clients/auth-failure-limiter';
import type { AuthFailureStoreOption } from '../clients/auth-failure-store.factory';
import type { ClientAuthOptions } from '../clients/client-auth-options';
import type { GrantsOptions, TokenRetentionOptions } from '../grants/grants-options';
import type { TokenPrefixes } from '../grants/token-format';
import type { CacheSettings } from '../database/invalidated-cache';

export type { TokenRetentionOptions };

/** Settings every OAuth module of the set shares. */
export interface OAuthCoreOptions {
  /** The authorization server's issuer identifier (RFC 8414 §2), e.g. `https://auth.example.com`. */
  issuer: string;
  /** Token type prefixes; defaults `oat_` (access) and `ort_` (refresh). */
  tokenPrefixes?: TokenPrefixes;
  /** Lifetime of new access tokens; default 3600 s. */
  accessTokenTtlSeconds?: number;
  /** Lifetime of new refresh tokens; default 30 days. */
  refreshTokenTtlSeconds?: number;
  retention?: TokenRetentionOptions;
  /**
   * Brute-force protection of client authentication; defaults a minute's window, 10 failures per (client id,
   * address), 50 per address, and a ceiling of 1,000 per client id (see AuthFailureLimits).
   */
  authFailureLimits?: Partial<AuthFailureLimits>;
  /**
   * Per-process caches of access token checks (bearer guard, introspection) and client records (client
   * authentication), evicted through PostgreSQL LISTEN/NOTIFY and bypassed whenever the listener is not
   * connected. Defaults: 300 s, 10,000 entries each. Off on the embedded database.
   */
  cache?: Partial<CacheSettings>;
  /** Where the limiter's counters live; default `memory` (per process). `postgres` or `{ redisUrl }` share them among instances. */
  authFailureStore?: AuthFailureStoreOption;
  /** Bound of the in-process store, in bytes; default 16 MiB. */
  authFailureMemoryBytes?: number;
}

/**
 * The options with every default filled in, computed once. The grant domain and client authentication
 * receive the same object under their own tokens (GRANTS_OPTIONS, CLIENT_AUTH_OPTIONS).
 */
export interface ResolvedOAuthCoreOptions extends GrantsOptions, ClientAuthOptions {
  issuer: string;
}
