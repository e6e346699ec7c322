import { Client } from 'pg';
import type { DatabaseSettings } from './database-settings.interface';
import { DatabaseStartupError, redactSecretsIn, redactUrl } from './database-errors';
import { EmbeddedDatabase, MEMORY_DATA_DIR, readLock } from './embedded-database';

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
  let client: Client | undefined;
  try {
    // Inside the try: `pg` reads the sslkey/sslcert/sslrootcert files of the URL as it parses it.
    client = new Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // The driver's message may quote a part of the URL (a key file's path): masked like the URL itself.
    const cause = redactSecretsIn(e.code ? `${e.code}: ${e.message}` : e.message, url);
    throw new DatabaseStartupError(
      `Cannot reach PostgreSQL at ${redactUrl(url)} (${cause}); start the database, fix DATABASE_URL, or unset DATABASE_URL to use the embedded database.`,
    );
  } finally {
    await client?.end().catch(() => undefined);
  }
}
