import { Inject, Injectable } from '@nestjs/common';
import { GRANTS_OPTIONS, GrantsOptions } from './grants-options';
import { RetentionScheduler } from './retention-scheduler';
import { TokenCleanupService } from './token-cleanup.service';

/** The token retention cleanup inside the app (see RetentionScheduler). */
@Injectable()
export class TokenCleanupScheduler extends RetentionScheduler {
  constructor(
    private readonly cleanup: TokenCleanupService,
    @Inject(GRANTS_OPTIONS) options: GrantsOptions,
  ) {
    super('TokenCleanup', options);
  }

  protected async run(stop: () => boolean): Promise<string | null> {
    const r = await this.cleanup.cleanup(stop);
    if (r.deleted_access_tokens + r.deleted_refresh_tokens + r.deleted_grants === 0) return null;
    return `Deleted ${r.deleted_access_tokens} access tokens, ${r.deleted_refresh_tokens} refresh tokens and ${r.deleted_grants} grants past retention`;
  }
}
