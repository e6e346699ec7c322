import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from './config/app-config';
import { openDatabase } from '../database/database-connection';
import { dataSourceOptions } from './data-source-options';

/**
 * The data source the TypeORM CLI loads (`npm run migration:run|revert|show`). It uses the same
 * options as the app; on the embedded database it joins a running server, or opens the directory itself
 * and lets go of it when the command is done.
 */
async function createCliDataSource(): Promise<DataSource> {
  const config = loadConfig();
  const db = await openDatabase(config.database, 'tool');
  if (db.embedded) {
    db.embedded.unref();
    process.once('beforeExit', () => void db.embedded?.stop());
  }
  return new DataSource({ ...dataSourceOptions(db, config.database), migrationsRun: false, logging: ['error', 'migration'] });
}

export const dataSource = createCliDataSource();
