import type { DataSourceOptions } from 'typeorm';
import { OAUTH_ENTITIES, OAUTH_MIGRATIONS } from '../schema/entities';
import type { OpenedDatabase } from '../database/database-connection';
import type { DatabaseSettings } from '../database/database-settings.interface';
import { ANNOUNCE_AFTER_COMMIT_OPTION } from '../database/invalidation-listener';

/** The TypeORM options shared by the Nest module and the TypeORM CLI's data source. */
export function dataSourceOptions(db: OpenedDatabase, settings: DatabaseSettings): DataSourceOptions {
  return {
    type: 'postgres',
    url: db.url,
    entities: OAUTH_ENTITIES,
    migrations: OAUTH_MIGRATIONS,
    migrationsRun: settings.migrationsRun,
    migrationsTableName: 'migrations',
    synchronize: false,
    // Off: a failed query's log line would carry its parameters (token hashes, client ids). Database
    // failures are reported by the OAuth exception filter and the health check instead.
    logging: false,
    extra: {
      max: db.poolSize,
      connectionTimeoutMillis: settings.connectTimeoutMs,
      // A hung query turns into an error instead of a hung request: the server cancels it after
      // statement_timeout; query_timeout is the client-side backstop for a query that never reaches
      // a server able to cancel it (a dead link, or the embedded database's queue).
      statement_timeout: settings.statementTimeoutMs || undefined,
      query_timeout: settings.statementTimeoutMs ? settings.statementTimeoutMs + 2000 : undefined,
      application_name: 'nestjs-oauth2-revocation',
      // Not on the embedded database (one session for every connection, and nobody to notify). pg reads
      // PGOPTIONS only when no options are given: kept by adding ours to it.
      options: settings.url && settings.announceAfterCommit ? [settings.pgOptions, ANNOUNCE_AFTER_COMMIT_OPTION].filter(Boolean).join(' ') : undefined,
    },
  };
}
