import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { OAUTH_MIGRATIONS } from '../src/schema/entities';
import { MIGRATION_LOCK_KEYS } from '../src/database/migration-lock';
import { exitOf, run, startServerProcess, waitFor } from './support/processes';
import { testDatabaseKind } from './support/test-database';

/** A fresh, empty database on the run's PostgreSQL server, and a client on it for assertions. */
async function emptyPostgresDatabase(): Promise<{ url: string; query: <T>(sql: string) => Promise<T[]>; drop: () => Promise<void> }> {
  const name = `nor_conc_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: process.env.DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const u = new URL(process.env.DATABASE_URL!);
  u.pathname = `/${name}`;
  const url = u.toString();
  return {
    url,
    query: async <T>(sql: string) => {
      const c = new Client({ connectionString: url });
      await c.connect();
      try {
        return (await c.query(sql)).rows as T[];
      } finally {
        await c.end();
      }
    },
    drop: async () => {
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

const MIGRATION_NAMES = OAUTH_MIGRATIONS.map((m) => m.name).sort();

/**
 * Holds the migration lock while `start` launches the processes, until each of `count` processes is
 * seen waiting for it, and checks that none migrated meanwhile; then lets them all go at the same moment.
 * Without the lock they would not wait, and would race on the empty schema as the issue reproduced.
 */
async function releaseTogether<T>(url: string, count: number, start: () => Promise<T>): Promise<T> {
  const holder = new Client({ connectionString: url });
  await holder.connect();
  try {
    await holder.query('SELECT pg_advisory_lock($1, $2)', [...MIGRATION_LOCK_KEYS]);
    const started = start();
    started.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile
    let migratedMeanwhile = false;
    await waitFor(async () => {
      // Nobody may build the schema while the lock is held elsewhere (TypeORM creates its migrations table first).
      const { rows: [schema] } = await holder.query(`SELECT to_regclass('public.migrations') IS NOT NULL AS migrated`);
      migratedMeanwhile = schema.migrated;
      if (migratedMeanwhile) return true;
      const { rows } = await holder.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%pg_try_advisory_lock%'`,
      );
      return rows[0].n >= count;
    }, 30_000, `${count} processes waiting for the migration lock`);
    expect({ migratedMeanwhile }).toEqual({ migratedMeanwhile: false });
    await holder.query('SELECT pg_advisory_unlock($1, $2)', [...MIGRATION_LOCK_KEYS]);
    return await started;
  } finally {
    await holder.end();
  }
}

// Several processes on one database is a PostgreSQL deployment; an embedded data directory belongs to
// one process by design (its lock file), so there is nothing to race there.
const onPostgres = testDatabaseKind() === 'postgres' ? describe : describe.skip;

onPostgres('several instances starting at once on an empty PostgreSQL database', () => {
  it('all three servers wait for the migration lock, come up together, and the migrations ran exactly once', async () => {
    const db = await emptyPostgresDatabase();
    const children: ChildProcess[] = [];
    try {
      const started = await releaseTogether(db.url, 3, () =>
        Promise.allSettled([1, 2, 3].map(() => startServerProcess({ DATABASE_URL: db.url }, (child) => children.push(child)))),
      );
      expect(started.map((s) => (s.status === 'fulfilled' ? 'up' : String(s.reason)))).toEqual(['up', 'up', 'up']);
      for (const s of started) if (s.status === 'fulfilled') expect((await fetch(`${s.value.url}/health`)).status).toBe(200);
      const applied = await db.query<{ name: string }>('SELECT name FROM migrations ORDER BY name');
      expect(applied.map((r) => r.name).sort()).toEqual(MIGRATION_NAMES);
      // Released once done: a replica started later must not wait.
      expect(await db.query(`SELECT objid FROM pg_locks WHERE locktype = 'advisory'`)).toEqual([]);
    } finally {
      for (const child of children) child.kill('SIGTERM');
      await Promise.all(children.map(exitOf));
      await db.drop();
    }
  }, 120_000);

  it('three `migration:run` at once: all wait for the lock, all succeed, and each migration is applied once', async () => {
    const db = await emptyPostgresDatabase();
    try {
      // The TypeORM CLI on the compiled data source, as `npm run migration:run` runs it (without the
      // build step, which three processes must not run at once).
      const runs = await releaseTogether(db.url, 3, () =>
        Promise.all([1, 2, 3].map(() => run('node', ['node_modules/typeorm/cli.js', 'migration:run', '-d', 'dist/src/host/data-source.js'], { DATABASE_URL: db.url }, 90_000))),
      );
      expect(runs.map((r) => [r.code, r.stderr])).toEqual([[0, ''], [0, ''], [0, '']]);
      const applied = await db.query<{ name: string }>('SELECT name FROM migrations ORDER BY name');
      expect(applied.map((r) => r.name).sort()).toEqual(MIGRATION_NAMES);
    } finally {
      await db.drop();
    }
  }, 120_000);
});
