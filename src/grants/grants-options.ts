import type { CacheSettings } from '../database/invalidated-cache';
import type { TokenPrefixes } from './token-format';

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

/** What the grant domain (issuance, cleanup) needs of the core options, defaults filled in. */
export interface GrantsOptions {
  tokenPrefixes: TokenPrefixes;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  retention: Required<TokenRetentionOptions>;
  cache: CacheSettings;
}

/** Injection token of GrantsOptions; grants/ does not import core/, core/ provides it. */
export const GRANTS_OPTIONS = Symbol('GRANTS_OPTIONS');
