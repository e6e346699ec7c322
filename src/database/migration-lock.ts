import { DataSource, DataSourceOptions, Migration, MigrationExecutor } from 'typeorm';

/**
 * The PostgreSQL advisory lock key every process of this package takes around migrations (a constant:
 * replicas of any version must meet on the same lock). Two int4 halves, "oaut" and "hmig" in ASCII.
 */
export const MIGRATION_LOCK_KEYS: readonly [number, number] = [0x6f617574, 0x686d6967];

export interface MigrationLockOptions {
  /** TypeORM's migration transaction mode; default the data source's `migrationsTransactionMode`, else `all`. */
  transaction?: 'all' | 'none' | 'each';
  /** Mark pending migrations as run without running them (TypeORM's `--fake`). */
  fake?: boolean;
  /** How long to wait for another process's migrations before giving up; default 5 minutes. */
  waitMs?: number;
}

/** Another process held the migration lock longer than the wait allowed. */
export class MigrationLockTimeoutError extends Error {
  override name = 'MigrationLockTimeoutError';
}

/**
 * Runs the data source's pending migrations while holding a session-level PostgreSQL advisory lock, so
 * that any number of replicas (and `migration:run`) may start together on an empty database: the first
 * migrates, the others wait for it and then find nothing pending. Lock, migrations and unlock all go
 * through one connection, so this works with a pool of one (the embedded database).
 */
export async function runMigrationsUnderLock(dataSource: DataSource, options: MigrationLockOptions = {}): Promise<Migration[]> {
  const queryRunner = dataSource.createQueryRunner();
  try {
    await queryRunner.connect();
    // pg_try_advisory_lock, polled, rather than a blocking pg_advisory_lock: a blocking wait would be cut
    // short by the connection's statement_timeout while another replica is still migrating.
    const deadline = Date.now() + (options.waitMs ?? 5 * 60_000);
    for (;;) {
      const [row] = (await queryRunner.query('SELECT pg_try_advisory_lock($1, $2) AS locked', [...MIGRATION_LOCK_KEYS])) as Array<{ locked: boolean }>;
      if (row?.locked) break;
      if (Date.now() > deadline) {
        throw new MigrationLockTimeoutError('Gave up waiting for another process to finish running the migrations (PostgreSQL advisory lock still held); is one stuck?');
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    try {
      const executor = new MigrationExecutor(dataSource, queryRunner);
      executor.transaction = options.transaction ?? dataSource.options.migrationsTransactionMode ?? 'all';
      executor.fake = options.fake ?? false;
      return await executor.executePendingMigrations();
    } finally {
      await queryRunner.query('SELECT pg_advisory_unlock($1, $2)', [...MIGRATION_LOCK_KEYS]);
    }
  } finally {
    await queryRunner.release();
  }
}

/**
 * A `dataSourceFactory` for `TypeOrmModule.forRootAsync`: initializes the data source and applies its
 * pending migrations under the advisory lock (unless the options say `migrationsRun: false`). TypeORM's
 * own `migrationsRun` takes no lock, so it is turned off for the initialization itself.
 */
export async function initializeAndMigrate(options: DataSourceOptions): Promise<DataSource> {
  const dataSource = await new DataSource({ ...options, migrationsRun: false }).initialize();
  if (options.migrationsRun === false) return dataSource;
  try {
    await runMigrationsUnderLock(dataSource);
  } catch (err) {
    await dataSource.destroy().catch(() => undefined);
    throw err;
  }
  return dataSource;
}
