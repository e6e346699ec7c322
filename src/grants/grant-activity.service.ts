import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** How often a grant's last use is written at most. */
const INTERVAL_MS = 60_000;
/** Grants this process remembers having written; the oldest are forgotten first. */
const REMEMBERED_MAX = 50_000;

/**
 * When a grant was last used, for the account page's "last used": a refresh, or the first check of an
 * access token in this process (the token check's cache miss; cached checks cost nothing). At most one
 * write a minute per grant: the condition is in the UPDATE (for the instances together), and a check does
 * not even ask again within the minute for a grant this process asked about (with the caches off, every
 * check of a busy grant would otherwise cost a round trip); a refresh, which writes anyway, always asks.
 * Fire and forget: the caller never waits for it, a failure is only logged at debug level, and the revoke
 * path never calls it.
 */
@Injectable()
export class GrantActivity {
  private readonly logger = new Logger('GrantActivity');

  /** Grant id → when this process last asked for its write. */
  private readonly touched = new Map<string, number>();

  constructor(private readonly dataSource: DataSource) {}

  /** An access token of the grant was checked (a cache miss): written unless this process did so within the minute. */
  checked(grantId: string): void {
    const now = Date.now();
    const last = this.touched.get(grantId);
    if (last !== undefined && now - last < INTERVAL_MS) return;
    // Re-inserted, so the map's order stays oldest first.
    this.touched.delete(grantId);
    if (this.touched.size >= REMEMBERED_MAX) this.touched.delete(this.touched.keys().next().value as string);
    this.touched.set(grantId, now);
    this.touch(grantId);
  }

  /** The grant was used (a refresh, which writes anyway): written unless the database has it within the minute. */
  touch(grantId: string): void {
    this.dataSource
      .query(`UPDATE grants SET last_used_at = now() WHERE id = $1 AND revoked_at IS NULL AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`, [grantId])
      .catch((err: Error) => this.logger.debug(`last_used_at of grant ${grantId} not recorded: ${err.message}`));
  }
}
