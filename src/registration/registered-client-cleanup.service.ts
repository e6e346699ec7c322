import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { GRANTS_OPTIONS, GrantsOptions } from '../grants/grants-options';
import { REGISTRATION_OPTIONS } from './registration.constants';
import type { ResolvedRegistrationOptions } from './registration-options.interface';

export interface RegisteredClientCleanupResult {
  deleted_clients: number;
}

/**
 * Deletes dynamically registered clients that went `unusedClientDays` without a live grant (see
 * migrations/*-registered-client-cleanup.ts), with their dead grants and tokens; a client with a live grant
 * is never deleted, nor one an operator created. Batches of `retention.cleanupBatchSize` clients, each one
 * short transaction; several instances may run it at once.
 */
@Injectable()
export class RegisteredClientCleanupService {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(REGISTRATION_OPTIONS) private readonly options: ResolvedRegistrationOptions,
    @Inject(GRANTS_OPTIONS) private readonly grants: GrantsOptions,
  ) {}

  /** `stop`: asked between batches; true ends the run early (shutdown). */
  async cleanup(stop: () => boolean = () => false): Promise<RegisteredClientCleanupResult> {
    const limit = this.grants.retention.cleanupBatchSize;
    const [{ cutoff }]: Array<{ cutoff: Date }> = await this.dataSource.query(`SELECT now() - make_interval(days => $1) AS cutoff`, [this.options.unusedClientDays]);
    let deleted = 0;
    for (;;) {
      const [{ n }]: Array<{ n: number }> = await this.dataSource.query('SELECT oauth_cleanup_registered_clients($1, $2) AS n', [cutoff, limit]);
      deleted += n;
      if (n < limit || stop()) break;
    }
    return { deleted_clients: deleted };
  }
}
