import { Pool } from 'pg';

/** The database of this test run (see global-setup.ts). */
export function testDatabaseUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set: run the specs through jest (global-setup.ts)');
  return url;
}

export const testDatabaseKind = (): 'embedded' | 'postgres' => (process.env.TEST_DATABASE_KIND === 'postgres' ? 'postgres' : 'embedded');

/** PGlite runs one query at a time: one connection per pool is all it can use. */
export const testPoolSize = (): number => (testDatabaseKind() === 'embedded' ? 1 : 5);

/** A direct connection for asserting what is in the database. */
export function openTestPool(): Pool {
  return new Pool({ connectionString: testDatabaseUrl(), max: testPoolSize() });
}
