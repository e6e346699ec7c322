import { Client } from 'pg';
import type { DataSourceOptions } from 'typeorm';
import type { DatabaseSettings } from '../config/app-config';
import { DatabaseStartupError, redactUrl } from './database-errors';
import { EmbeddedDatabase, MEMORY_DATA_DIR, readLock } from './embedded-database';
import { OAUTH_ENTITIES, OAUTH_MIGRATIONS } from './entities';

/** Where the app's connections go, and what to stop at shutdown. */
export interface OpenedDatabase {
  url: string;
  poolSize: number;
  /** The embedded server this process started, if any. */
  embedded?: EmbeddedDatabase;
}

/**
 * `server`: the host app, which owns an embedded data directory while it runs.
 * `tool`: the admin CLI and the migration CLI, which join a running host's embedded database
 * rather than fight it for the directory.
 */
export type OpenMode = 'server' | 'tool';

/** The one place that decides which PostgreSQL the process talks to. */
export async function openDatabase(settings: DatabaseSettings, mode: OpenMode): Promise<OpenedDatabase> {
  if (settings.url) {
    await probe(settings.url, settings.connectTimeoutMs);
    return { url: settings.url, poolSize: settings.poolSize };
  }
  if (mode === 'tool' && settings.embeddedDataDir !== MEMORY_DATA_DIR) {
    const holder = readLock(settings.embeddedDataDir);
    if (holder?.port) return { url: `postgres://postgres@127.0.0.1:${holder.port}/postgres`, poolSize: 1 };
  }
  // PGlite executes one query at a time: more pooled connections would only queue inside it.
  const embedded = await EmbeddedDatabase.start(settings.embeddedDataDir);
  return { url: embedded.url, poolSize: 1, embedded };
}

async function probe(url: string, timeoutMs: number): Promise<void> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const cause = e.code ? `${e.code}: ${e.message}` : e.message;
    throw new DatabaseStartupError(
      `Cannot reach PostgreSQL at ${redactUrl(url)} (${cause}); start the database, fix DATABASE_URL, or unset DATABASE_URL to use the embedded database.`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

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
    },
  };
}
