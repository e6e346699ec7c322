import type { Pool, QueryResultRow } from 'pg';
import type { DataSource } from 'typeorm';

/** Per data source: the pg pool to name statements on, or null where naming is unsafe. */
const namingPools = new WeakMap<DataSource, Promise<Pool | null>>();

/**
 * PGlite serves every socket connection from one backend session, so a statement one connection named
 * is already there for the next (after a reconnect, say) and PostgreSQL refuses to prepare it again:
 * name statements only on a real server.
 */
function namingPool(dataSource: DataSource): Promise<Pool | null> {
  let found = namingPools.get(dataSource);
  if (!found) {
    const pool = (dataSource.driver as unknown as { master?: Pool }).master;
    found = pool
      ? pool.query<{ version: string }>('SELECT version()').then(
          (r) => (/PGlite/.test(r.rows[0].version) ? null : pool),
          () => {
            namingPools.delete(dataSource); // decide again once the database answers
            return null;
          },
        )
      : Promise.resolve(null);
    namingPools.set(dataSource, found);
  }
  return found;
}

/**
 * Decides now, at startup, whether statements are named on this data source: the first request then runs
 * only its own statement. (Decided lazily, a database that hangs made the first requests wait for the
 * version check's timeout and then their own.)
 */
export async function decideStatementNaming(dataSource: DataSource): Promise<void> {
  await namingPool(dataSource);
}

/**
 * A statement the hot path runs on every request, as a named prepared statement of `pg`: PostgreSQL parses
 * and plans it once per connection, and later executions send only the parameters. TypeORM's `query()`
 * cannot name statements, so these go to the pool of TypeORM's own PostgreSQL driver (same connections,
 * same settings, same timeouts). On the embedded database they run unnamed.
 */
export class PreparedStatement<Row extends QueryResultRow> {
  constructor(
    private readonly name: string,
    private readonly text: string,
  ) {}

  async run(dataSource: DataSource, values: unknown[]): Promise<Row[]> {
    const pool = await namingPool(dataSource);
    if (!pool) return dataSource.query(this.text, values);
    return (await pool.query<Row>({ name: this.name, text: this.text, values })).rows;
  }
}
