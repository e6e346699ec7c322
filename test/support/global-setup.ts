import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { EmbeddedDatabase } from '../../src/database/embedded-database';
import { OAUTH_MIGRATIONS } from '../../src/schema/entities';

/**
 * One database for the whole run, outside Jest's module sandbox:
 * - DATABASE_URL set: a fresh database on that PostgreSQL server, dropped afterwards;
 * - otherwise: an in-memory embedded PGlite served on a loopback socket.
 * Its URL reaches the test files as TEST_DATABASE_URL; TEST_DATABASE_KIND says which it is.
 */
export default async function globalSetup(): Promise<void> {
  // The CLI and the process-level specs run the compiled output.
  execFileSync('npx', ['tsc', '-b', 'tsconfig.build.json'], { stdio: 'inherit' });
  let url: string;
  if (process.env.DATABASE_URL) {
    const name = `nor_test_${randomBytes(4).toString('hex')}`;
    const admin = new Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const u = new URL(process.env.DATABASE_URL);
    u.pathname = `/${name}`;
    url = u.toString();
    process.env.TEST_DATABASE_KIND = 'postgres';
    (globalThis as Record<string, unknown>).__TEST_DB_NAME__ = name;
  } else {
    const embedded = await EmbeddedDatabase.start('memory://', { maxConnections: 32 });
    url = embedded.url;
    process.env.TEST_DATABASE_KIND = 'embedded';
    (globalThis as Record<string, unknown>).__EMBEDDED__ = embedded;
  }
  const ds = await new DataSource({ type: 'postgres', url, migrations: OAUTH_MIGRATIONS, migrationsTableName: 'migrations' }).initialize();
  await ds.runMigrations();
  await ds.destroy();
  process.env.TEST_DATABASE_URL = url;
}
