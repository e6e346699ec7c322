import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { GRANTS_OPTIONS, GrantsOptions } from './grants-options';

/** What one cleanup run removed. Audit rows are never removed. */
export interface TokenCleanupResult {
  deleted_access_tokens: number;
  deleted_refresh_tokens: number;
  /** Grants past retention, and grants of codes that expired without being exchanged (they have no tokens). */
  deleted_grants: number;
  /** Authorization requests that expired (answered or not) before the cutoff. */
  deleted_authorization_requests: number;
  /** Authorization codes that expired before the cutoff; a used code is kept until then, so its replay is still detected. */
  deleted_authorization_codes: number;
  /** Device codes (RFC 8628) that expired before the cutoff; a redeemed one is kept until then, so its reuse is still detected. */
  deleted_device_codes: number;
}

interface BatchRow {
  deleted_access_tokens: number;
  deleted_refresh_tokens: number;
  deleted_grants: number;
}

/**
 * Retention cleanup: tokens expired or revoked more than the retention period ago, then grants that are
 * revoked or expired beyond it and have no tokens left. Dead tokens are kept until then because a client
 * may still revoke them (RFC 7009: revoking an expired token still revokes its grant) and because a
 * consumed refresh token coming back is how reuse is detected (RFC 9700 §4.14.2).
 *
 * Work happens in batches of at most `cleanupBatchSize` rows, each one short transaction (one SQL round
 * trip) that skips grants a refresh or a revocation holds at that moment, so the hot paths never wait
 * for cleanup. Several instances may run it at once.
 */
@Injectable()
export class TokenCleanupService {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(GRANTS_OPTIONS) private readonly options: GrantsOptions,
  ) {}

  /** `stop`: asked between batches; true ends the run early (shutdown), leaving the rest to the next run. */
  async cleanup(stop: () => boolean = () => false): Promise<TokenCleanupResult> {
    const { days, cleanupBatchSize: limit } = this.options.retention;
    // One cutoff for the whole run, so that a long run does not chase rows that only just became stale.
    const [{ cutoff }]: Array<{ cutoff: Date }> = await this.dataSource.query(`SELECT now() - make_interval(days => $1) AS cutoff`, [days]);
    const total: TokenCleanupResult = { deleted_access_tokens: 0, deleted_refresh_tokens: 0, deleted_grants: 0, deleted_authorization_requests: 0, deleted_authorization_codes: 0, deleted_device_codes: 0 };
    for (;;) {
      const [batch]: BatchRow[] = await this.dataSource.query(
        'SELECT deleted_access_tokens, deleted_refresh_tokens, deleted_grants FROM oauth_cleanup_batch($1, $2)',
        [cutoff, limit],
      );
      total.deleted_access_tokens += batch.deleted_access_tokens;
      total.deleted_refresh_tokens += batch.deleted_refresh_tokens;
      total.deleted_grants += batch.deleted_grants;
      // Every batch that goes on deletes something, so the loop ends; rows skipped because their grant
      // was busy are left to the next run.
      if (batch.deleted_access_tokens + batch.deleted_refresh_tokens + batch.deleted_grants === 0 || stop()) break;
    }
    while (!stop()) {
      const [{ deleted }]: Array<{ deleted: number }> = await this.dataSource.query('SELECT oauth_cleanup_revoked_grants($1, $2) AS deleted', [cutoff, limit]);
      total.deleted_grants += deleted;
      if (deleted < limit) break;
    }
    if (!stop()) {
      const [login]: Array<{ deleted_requests: number; deleted_codes: number; deleted_grants: number }> = await this.dataSource.query(
        'SELECT deleted_requests, deleted_codes, deleted_grants FROM oauth_cleanup_authorizations($1)',
        [cutoff],
      );
      total.deleted_authorization_requests += login.deleted_requests;
      total.deleted_authorization_codes += login.deleted_codes;
      total.deleted_grants += login.deleted_grants;
    }
    // Device codes in batches too, asking `stop` between them.
    while (!stop()) {
      const [{ deleted }]: Array<{ deleted: number }> = await this.dataSource.query(
        `WITH d AS (DELETE FROM device_codes WHERE id IN (SELECT id FROM device_codes WHERE expires_at < $1 ORDER BY expires_at LIMIT $2) RETURNING 1)
         SELECT count(*)::int AS deleted FROM d`,
        [cutoff, limit],
      );
      total.deleted_device_codes += deleted;
      if (deleted < limit) break;
    }
    return total;
  }
}
