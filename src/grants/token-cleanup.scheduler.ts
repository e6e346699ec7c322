import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { GRANTS_OPTIONS, GrantsOptions } from './grants-options';
import { TokenCleanupService } from './token-cleanup.service';

/**
 * Runs the retention cleanup inside the app every `retention.cleanupIntervalSeconds` (off when 0). A run
 * that is still going when the next is due is not doubled; a failed run is logged and retried at the
 * next interval.
 */
@Injectable()
export class TokenCleanupScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('TokenCleanup');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly cleanup: TokenCleanupService,
    @Inject(GRANTS_OPTIONS) private readonly options: GrantsOptions,
  ) {}

  onApplicationBootstrap(): void {
    const seconds = this.options.retention.cleanupIntervalSeconds;
    if (seconds <= 0) return;
    this.timer = setInterval(() => void this.runOnce(), seconds * 1000);
    this.timer.unref();
  }

  /** Ends a run in progress after its current batch, so shutdown neither waits long nor closes the database under it. */
  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private stopping = false;

  runOnce(): Promise<void> {
    this.running ??= this.cleanup
      .cleanup(() => this.stopping)
      .then((r) => {
        if (r.deleted_access_tokens + r.deleted_refresh_tokens + r.deleted_grants > 0) {
          this.logger.log(`Deleted ${r.deleted_access_tokens} access tokens, ${r.deleted_refresh_tokens} refresh tokens and ${r.deleted_grants} grants past retention`);
        }
      })
      .catch((err: unknown) => this.logger.warn(`Token cleanup failed; retrying at the next interval: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }
}
