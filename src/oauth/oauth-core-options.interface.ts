import type { AuthFailureLimits } from '../clients/auth-failure-limiter';
import type { TokenPrefixes } from '../tokens/token-format';

/** How long dead tokens are kept, and how the cleanup that removes them afterwards runs. */
export interface TokenRetentionOptions {
  /**
   * Days an expired or revoked token (and a revoked grant) is kept after it expired or was revoked:
   * long enough to still be revocable and to detect refresh token reuse. Default 30.
   */
  days?: number;
  /** Run the cleanup inside the app every this many seconds; 0 (default) = only through the admin CLI. */
  cleanupIntervalSeconds?: number;
  /** Rows per cleanup batch (each batch is one short transaction); default 1000. */
  cleanupBatchSize?: number;
}

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
  /** Brute-force protection of client authentication; defaults 10 failures per client id and 50 per address a minute. */
  authFailureLimits?: Partial<AuthFailureLimits>;
}

/** The options with every default filled in, computed once. */
export interface ResolvedOAuthCoreOptions {
  issuer: string;
  tokenPrefixes: TokenPrefixes;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  retention: Required<TokenRetentionOptions>;
  authFailureLimits: AuthFailureLimits;
}
