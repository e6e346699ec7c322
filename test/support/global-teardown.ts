import { Client } from 'pg';
import type { EmbeddedDatabase } from '../../src/database/embedded-database';

export default async function globalTeardown(): Promise<void> {
  const g = globalThis as Record<string, unknown>;
  const embedded = g.__EMBEDDED__ as EmbeddedDatabase | undefined;
  if (embedded) await embedded.stop();
  const name = g.__TEST_DB_NAME__ as string | undefined;
  if (name && process.env.DATABASE_URL) {
    const admin = new Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}
