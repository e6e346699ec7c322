import type { OnModuleDestroy } from '@nestjs/common';
import { AuthFailureLimiter } from '../clients/auth-failure-limiter';
import { MemoryAuthFailureStore } from '../clients/memory-auth-failure-store';
import type { RegistrationRateLimit } from './registration-options.interface';

/** The limiter counts per (client id, address); registrations all share this one id. */
const REGISTRATION_KEY = 'registration';

/**
 * Registration requests per remote address in fixed windows, in process memory, counted by the project's
 * limiter (clients/): every request counts (as a failure: the only outcome that locks), so a stranger can
 * neither fill the clients table nor guess the initial access token quickly.
 */
export class RegistrationRateLimiter implements OnModuleDestroy {
  private readonly limiter: AuthFailureLimiter;

  constructor(limits: Required<RegistrationRateLimit>) {
    this.limiter = new AuthFailureLimiter(
      { perClientAddress: limits.perAddress, perAddress: 0, perClient: 0, windowSeconds: limits.windowSeconds },
      new MemoryAuthFailureStore(),
    );
  }

  /** Counts one request from `address`; answers the seconds to wait when the address is over its limit (the request then counts for nothing), else 0. */
  async take(address: string | undefined): Promise<number> {
    const attempt = await this.limiter.begin(REGISTRATION_KEY, address ?? '');
    if (attempt.retryAfterSeconds > 0) return attempt.retryAfterSeconds;
    await attempt.end('failure');
    return 0;
  }

  onModuleDestroy(): Promise<void> {
    return this.limiter.onModuleDestroy();
  }
}
