import { Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { GrantsOptions } from './grants-options';

/**
 * Runs a retention task inside the app every `retention.cleanupIntervalSeconds` (off when 0). A run that is
 * still going when the next is due is not doubled; a failed run is logged and retried at the next interval;
 * shutdown ends a run after its current batch, so it neither waits long nor closes the database under it.
 */
export abstract class RetentionScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger: Logger;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopping = false;

  protected constructor(
    private readonly what: string,
    private readonly options: GrantsOptions,
  ) {
    this.logger = new Logger(what);
  }

  /** One run; `stop` is asked between batches. Answers what to log, or null when nothing was done. */
  protected abstract run(stop: () => boolean): Promise<string | null>;

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
    this.running ??= this.run(() => this.stopping)
      .then((done) => {
        if (done) this.logger.log(done);
      })
      .catch((err: unknown) => this.logger.warn(`${this.what} failed; retrying at the next interval: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }
}
