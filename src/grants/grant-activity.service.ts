import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';

/**
 * When a grant was last used, for the account page's "last used": a refresh, or the first check of an
 * access token (the token check's cache miss; cached checks cost nothing). At most one write a minute per
 * grant: the condition is in the UPDATE, and this process also skips grants it touched less than a minute
 * ago without asking the database. Fire and forget: the caller never waits for it, a failure is only
 * logged at debug level, and the revoke path never calls it.
 */
@Injectable()
export class GrantActivity {
  private static readonly INTERVAL_MS = 60_000;
  private static readonly MAX_REMEMBERED = 10_000;
  private readonly logger = new Logger('GrantActivity');
  /** Grant id → when this process last wrote it; bounded (oldest forgotten first). */
  private readonly recent = new Map<string, number>();

  constructor(private readonly dataSource: DataSource) {}

  touch(grantId: string): void {
    const now = Date.now();
    const last = this.recent.get(grantId);
    if (last !== undefined && now - last < GrantActivity.INTERVAL_MS) return;
    this.recent.delete(grantId);
    this.recent.set(grantId, now);
    if (this.recent.size > GrantActivity.MAX_REMEMBERED) this.recent.delete(this.recent.keys().next().value!);
    this.dataSource
      .query(`UPDATE grants SET last_used_at = now() WHERE id = $1 AND revoked_at IS NULL AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`, [grantId])
      .catch((err: Error) => this.logger.debug(`last_used_at of grant ${grantId} not recorded: ${err.message}`));
  }
}
