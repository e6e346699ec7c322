// Bench databases on the machine's PostgreSQL: created per run (nor_bench_<run>_<what>), dropped after.
import pg from 'pg';

/** The server URL with another database name. */
export function databaseUrl(serverUrl, database) {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Runs fn with one client on `url`, always closing it. */
export async function withClient(url, fn) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const SAFE_NAME = /^[a-z0-9_]+$/;

export async function createDatabase(serverUrl, name) {
  if (!SAFE_NAME.test(name)) throw new Error(`bad database name ${name}`);
  await withClient(databaseUrl(serverUrl, 'postgres'), async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${name}`);
  });
  return databaseUrl(serverUrl, name);
}

export async function dropDatabase(serverUrl, name) {
  if (!SAFE_NAME.test(name)) throw new Error(`bad database name ${name}`);
  await withClient(databaseUrl(serverUrl, 'postgres'), (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

/** Bench databases left behind by an interrupted run (same prefix), for --cleanup. */
export async function listBenchDatabases(serverUrl) {
  return withClient(databaseUrl(serverUrl, 'postgres'), async (c) => {
    const { rows } = await c.query(`SELECT datname FROM pg_database WHERE datname LIKE 'nor\\_bench\\_%' ORDER BY datname`);
    return rows.map((r) => r.datname);
  });
}

export async function serverVersion(serverUrl) {
  return withClient(databaseUrl(serverUrl, 'postgres'), async (c) => {
    const { rows } = await c.query(`SELECT current_setting('server_version') AS v, current_setting('shared_buffers') AS sb,
      current_setting('max_connections') AS mc, current_setting('synchronous_commit') AS sc`);
    return { version: rows[0].v, shared_buffers: rows[0].sb, max_connections: Number(rows[0].mc), synchronous_commit: rows[0].sc };
  });
}

/**
 * Same starting conditions for every measured phase: dead rows of the previous phase vacuumed, statistics
 * fresh, dirty pages flushed (so no checkpoint is already due when the phase starts), and the tables and
 * their indexes read into shared buffers with pg_prewarm where the server has it (so whichever server runs
 * first does not pay for a cold cache). Resolves with whether the prewarm ran.
 */
export async function settle(url, tables) {
  return withClient(url, async (c) => {
    await c.query(`VACUUM (ANALYZE) ${tables.join(', ')}`);
    await c.query('CHECKPOINT');
    try {
      await c.query('CREATE EXTENSION IF NOT EXISTS pg_prewarm');
      await c.query(
        `SELECT pg_prewarm(c.oid) FROM pg_class c
         WHERE c.relname = ANY ($1) OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid::regclass::text = ANY ($1))`,
        [tables],
      );
      return true;
    } catch {
      return false;
    }
  });
}
