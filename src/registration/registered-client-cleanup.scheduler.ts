import { Inject, Injectable } from '@nestjs/common';
import { GRANTS_OPTIONS, GrantsOptions } from '../grants/grants-options';
import { RetentionScheduler } from '../grants/retention-scheduler';
import { RegisteredClientCleanupService } from './registered-client-cleanup.service';

/** Deletes unused registered clients inside the app on the retention cleanup's interval (see RetentionScheduler). */
@Injectable()
export class RegisteredClientCleanupScheduler extends RetentionScheduler {
  constructor(
    private readonly cleanup: RegisteredClientCleanupService,
    @Inject(GRANTS_OPTIONS) options: GrantsOptions,
  ) {
    super('RegisteredClientCleanup', options);
  }

  protected async run(stop: () => boolean): Promise<string | null> {
    const r = await this.cleanup.cleanup(stop);
    return r.deleted_clients > 0 ? `Deleted ${r.deleted_clients} registered clients unused past retention` : null;
  }
}
