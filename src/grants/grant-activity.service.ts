import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';

/**
 * When a grant was last used, for the account page's "last used": a refresh, or the first check of an
 * access token in this process (the token check's cache miss; cached checks cost nothing). At most one
 * write a minute per grant: the condition is in the UPDATE, so a grant used more often costs an indexed
 * lookup that changes nothing. Fire and forget: the caller never waits for it, a failure is only logged at
 * debug level, and the revoke path never calls it.
 */
@Injectable()
export class GrantActivity {
  private readonly logger = new Logger('GrantActivity');

  constructor(private readonly dataSource: DataSource) {}

  touch(grantId: string): void {
    this.dataSource
      .query(`UPDATE grants SET last_used_at = now() WHERE id = $1 AND revoked_at IS NULL AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`, [grantId])
      .catch((err: Error) => this.logger.debug(`last_used_at of grant ${grantId} not recorded: ${err.message}`));
  }
}
