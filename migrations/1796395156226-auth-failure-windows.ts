import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The brute-force limiter's shared counters (PostgresAuthFailureStore): one row per hashed key and fixed
 * window, so that every instance on the database counts the same failures (RFC 6749 §2.3.1, RFC 7009 §5).
 * UNLOGGED: counters that live a minute need no WAL; after a crash the table is empty, which only forgets
 * the current windows. The ends_at index serves the sweep that deletes ended windows.
 */
export class AuthFailureWindows1796395156226 implements MigrationInterface {
  name = 'AuthFailureWindows1796395156226';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE UNLOGGED TABLE auth_failure_windows (
        key text PRIMARY KEY CHECK (length(key) <= 64),
        failures integer NOT NULL DEFAULT 0,
        pending integer NOT NULL DEFAULT 0,
        successes integer NOT NULL DEFAULT 0,
        ends_at timestamptz NOT NULL
      )`);
    await q.query('CREATE INDEX auth_failure_windows_ends_at_idx ON auth_failure_windows (ends_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE auth_failure_windows');
  }
}
