import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { GRANTS_OPTIONS, GrantsOptions } from '../grants/grants-options';
import { RegisteredClientCleanupService } from './registered-client-cleanup.service';

/**
 * Deletes unused registered clients inside the app on the retention cleanup's interval
 * (`retention.cleanupIntervalSeconds`, off when 0), like TokenCleanupScheduler does for tokens.
 */
@Injectable()
export class RegisteredClientCleanupScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('RegisteredClientCleanup');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopping = false;

  constructor(
    private readonly cleanup: RegisteredClientCleanupService,
    @Inject(GRANTS_OPTIONS) private readonly options: GrantsOptions,
  ) {}

  onApplicationBootstrap(): void {
    const seconds = this.options.retention.cleanupIntervalSeconds;
    if (seconds <= 0) return;
    this.timer = setInterval(() => void this.runOnce(), seconds * 1000);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  runOnce(): Promise<void> {
    this.running ??= this.cleanup
      .cleanup(() => this.stopping)
      .then((r) => {
        if (r.deleted_clients > 0) this.logger.log(`Deleted ${r.deleted_clients} registered clients unused past retention`);
      })
      .catch((err: unknown) => this.logger.warn(`Registered client cleanup failed; retrying at the next interval: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }
}
