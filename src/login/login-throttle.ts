import { OnModuleDestroy } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { AuthFailureLimiter } from '../clients/auth-failure-limiter';
import { MemoryAuthFailureStore } from '../clients/memory-auth-failure-store';
import type { LoginFailureLimits } from './login-options.interface';

/** A login attempt in progress; `retryAfterSeconds` > 0 means it is refused and counts for nothing. */
export interface LoginAttempt {
  readonly retryAfterSeconds: number;
  end(outcome: 'failure' | 'success'): Promise<void>;
}

/**
 * The brute-force limit of the login form, on the project's limiter (src/clients/) with counters of its
 * own, in process memory: failures per (username, address) and per address, attempts in flight reserved.
 * Not per username alone, so that strangers cannot lock a person out of their account by failing on purpose.
 */
export class LoginThrottle implements OnModuleDestroy {
  private readonly limiter: AuthFailureLimiter;

  constructor(limits: LoginFailureLimits) {
    // The limiter's "client id" is the username here; no per-username ceiling (perClient 0).
    this.limiter = new AuthFailureLimiter({ perClientAddress: limits.perUsernameAddress, perAddress: limits.perAddress, perClient: 0, windowSeconds: limits.windowSeconds }, new MemoryAuthFailureStore());
  }

  /**
   * `username` as typed; hashed to a fixed-size printable key, so that every attempt counts (the limiter
   * ignores ids no client could have, and a typed username may be anything).
   */
  begin(username: string, address: string | undefined): Promise<LoginAttempt> {
    return this.limiter.begin(createHash('sha256').update(username).digest('base64url'), address);
  }

  onModuleDestroy(): Promise<void> {
    return this.limiter.onModuleDestroy();
  }
}
