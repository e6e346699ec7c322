import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from './config/app-config';
import { hostEnvironment } from './config/dotenv';
import { openDatabase } from '../database/database-connection';
import { dataSourceOptions } from './data-source-options';
import { runMigrationsUnderLock } from '../database/migration-lock';

/**
 * The data source the TypeORM CLI loads (`npm run migration:run|revert|show`). It uses the same
 * options as the app; on the embedded database it joins a running server, or opens the directory itself
 * and lets go of it when the command is done.
 */
async function createCliDataSource(): Promise<DataSource> {
  const config = loadConfig(hostEnvironment());
  const db = await openDatabase(config.database, 'tool');
  const dataSource = new DataSource({ ...dataSourceOptions(db, config.database), migrationsRun: false, logging: ['error', 'migration'] });
  // migration:run takes the same advisory lock as the servers, so it can run while replicas start.
  dataSource.runMigrations = (options) => runMigrationsUnderLock(dataSource, options);
  if (db.embedded) {
    const embedded = db.embedded;
    embedded.unref();
    // The TypeORM CLI destroys the data source and then calls process.exit, so neither 'beforeExit' nor
    // a later tick comes: flush the embedded database and release its lock file as part of destroy().
    const destroy = dataSource.destroy.bind(dataSource);
    let stopped: Promise<void> | undefined;
    dataSource.destroy = async () => {
      try {
        if (dataSource.isInitialized) await destroy();
      } finally {
        await (stopped ??= embedded.stop());
      }
    };
  }
  return dataSource;
}

export const dataSource = createCliDataSource();
