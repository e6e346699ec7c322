import type { CacheSettings } from '../database/invalidated-cache';
import type { AuthFailureLimits } from './auth-failure-limiter';
import type { AuthFailureStoreOption } from './auth-failure-store.factory';

/** What client authentication needs of the core options; OAuthCoreModule provides it (see core/). */
export interface ClientAuthOptions {
  /** The issuer: the realm of the `WWW-Authenticate` challenge. */
  issuer: string;
  authFailureLimits: AuthFailureLimits;
  cache: CacheSettings;
  /** Where the limiter's counters live (see AuthFailureStoreOption). */
  authFailureStore: AuthFailureStoreOption;
  /** Bound of the in-process store, in bytes. */
  authFailureMemoryBytes: number;
}

/** Injection token of ClientAuthOptions; clients/ does not import core/, core/ provides it. */
export const CLIENT_AUTH_OPTIONS = Symbol('CLIENT_AUTH_OPTIONS');
