import type { DataSource } from 'typeorm';
import { AuthAttemptOutcome, AuthFailureStore, AuthFailureWindow, EMPTY_WINDOW } from './auth-failure-store.interface';

interface WindowRow {
  key: string;
  failures: number;
  pending: number;
  successes: number;
  reset_ms: number;
  hit: boolean;
}

// A window whose end has passed counts as absent: the first hit after it starts a new one.
const LIVE = 'w.ends_at > now()';
const windowEnd = (param: string) => `now() + make_interval(secs => ${param}::float8 / 1000)`;

/**
 * Begin: one statement that upserts the hit keys (sorted, so concurrent attempts lock rows in one order
 * and cannot deadlock) and reads the others. The read sees the snapshot before the upsert, which is right:
 * hit and read keys differ.
 */
const BEGIN = `
  WITH hit AS (
    INSERT INTO auth_failure_windows AS w (key, failures, pending, successes, ends_at)
    SELECT k, 0, 1, 0, ${windowEnd('$3')} FROM unnest($1::text[]) AS k ORDER BY k
    ON CONFLICT (key) DO UPDATE SET
      failures = CASE WHEN ${LIVE} THEN w.failures ELSE 0 END,
      pending = CASE WHEN ${LIVE} THEN w.pending + 1 ELSE 1 END,
      successes = CASE WHEN ${LIVE} THEN w.successes ELSE 0 END,
      ends_at = CASE WHEN ${LIVE} THEN w.ends_at ELSE EXCLUDED.ends_at END
    RETURNING w.key, w.failures, w.pending, w.successes, w.ends_at
  )
  SELECT key, failures, pending, successes, greatest(0, ceil(extract(epoch FROM ends_at - now()) * 1000))::int AS reset_ms, true AS hit FROM hit
  UNION ALL
  SELECT key, failures, pending, successes, greatest(0, ceil(extract(epoch FROM ends_at - now()) * 1000))::int, false
  FROM auth_failure_windows w WHERE key = ANY($2::text[]) AND ${LIVE}`;

/**
 * End: the attempt's keys lose their pending count and gain the outcome; `alsoFail` keys gain a failure.
 * Every existing row it will change is locked first, in key order, as Begin locks them: an UPDATE of
 * `key = ANY(…)` alone meets the rows in whatever order its scan finds them (table order, on a small table),
 * and two attempts on the same keys then deadlocked, one of them answered 503 (seen under load: the bench's
 * 32 connections of one client from one address). The insert reads `ended` so that it runs after it (a
 * data-modifying WITH nobody reads runs after the main statement, which would lock the `alsoFail` rows first).
 */
const END = `
  WITH locked AS (
    SELECT w.key FROM auth_failure_windows w WHERE w.key = ANY($1::text[] || $4::text[]) ORDER BY w.key FOR UPDATE
  ), ended AS (
    UPDATE auth_failure_windows w SET pending = greatest(w.pending - 1, 0), failures = w.failures + $2::int, successes = w.successes + $3::int
    FROM locked l
    WHERE w.key = l.key AND w.key = ANY($1::text[]) AND ${LIVE}
    RETURNING 1
  )
  INSERT INTO auth_failure_windows AS w (key, failures, pending, successes, ends_at)
  SELECT k, 1, 0, 0, ${windowEnd('$5')} FROM unnest($4::text[]) AS k WHERE (SELECT count(*) FROM ended) >= 0 ORDER BY k
  ON CONFLICT (key) DO UPDATE SET
    failures = CASE WHEN ${LIVE} THEN w.failures + 1 ELSE 1 END,
    pending = CASE WHEN ${LIVE} THEN w.pending ELSE 0 END,
    successes = CASE WHEN ${LIVE} THEN w.successes ELSE 0 END,
    ends_at = CASE WHEN ${LIVE} THEN w.ends_at ELSE EXCLUDED.ends_at END`;

/**
 * The counters in PostgreSQL (table `auth_failure_windows`, see its migration), so that every instance on
 * one database counts the same failures: the default of the standalone server with DATABASE_URL. Keys are
 * the limiter's hashes, never client ids or addresses; ended windows are deleted by sweep().
 */
export class PostgresAuthFailureStore implements AuthFailureStore {
  constructor(private readonly dataSource: DataSource) {}

  async begin(hit: readonly string[], read: readonly string[], windowMs: number): Promise<{ hit: AuthFailureWindow[]; read: AuthFailureWindow[] }> {
    const rows: WindowRow[] = await this.dataSource.query(BEGIN, [[...hit], [...read], windowMs]);
    const found = (key: string, isHit: boolean): AuthFailureWindow => {
      const r = rows.find((row) => row.key === key && row.hit === isHit);
      return r ? { failures: r.failures, pending: r.pending, successes: r.successes, resetInMs: r.reset_ms } : { ...EMPTY_WINDOW };
    };
    return { hit: hit.map((k) => found(k, true)), read: read.map((k) => found(k, false)) };
  }

  async end(hit: readonly string[], outcome: AuthAttemptOutcome, alsoFail: readonly string[], windowMs: number): Promise<void> {
    await this.dataSource.query(END, [
      [...hit],
      outcome === 'failure' ? 1 : 0,
      outcome === 'success' ? 1 : 0,
      outcome === 'failure' ? [...alsoFail] : [],
      windowMs,
    ]);
  }

  async sweep(): Promise<void> {
    // Rows an attempt holds are left for the next sweep (SKIP LOCKED): a sweep never waits, nor locks out of key order.
    await this.dataSource.query(
      `DELETE FROM auth_failure_windows w
        USING (SELECT key FROM auth_failure_windows WHERE ends_at <= now() ORDER BY key FOR UPDATE SKIP LOCKED) s
        WHERE w.key = s.key AND w.ends_at <= now()`,
    );
  }

  async close(): Promise<void> {
    // The data source belongs to the host.
  }
}
