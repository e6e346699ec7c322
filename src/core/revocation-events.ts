import { Injectable, Logger } from '@nestjs/common';
import type { RevocationEvent, RevocationListener } from './revocation-event';

/**
 * Delivers revocation events to the host's listeners after the revocation has committed.
 * Listeners run detached from the request: one that throws or never settles cannot undo, delay
 * or block a revocation; its failure is logged.
 */
@Injectable()
export class RevocationEvents {
  private readonly logger = new Logger('RevocationEvents');
  private readonly listeners = new Set<RevocationListener>();

  /** Adds a listener; returns a function that removes it. */
  subscribe(listener: RevocationListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: RevocationEvent): void {
    if (this.listeners.size === 0) return;
    for (const listener of this.listeners) {
      setImmediate(() => {
        try {
          Promise.resolve(listener(event)).catch((err: unknown) => this.report(event, err));
        } catch (err) {
          this.report(event, err);
        }
      });
    }
  }

  private report(event: RevocationEvent, err: unknown): void {
    this.logger.error(`A revocation listener failed for grant ${event.grantId}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
