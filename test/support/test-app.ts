import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { loadConfig, AppConfig } from '../../src/host/config/app-config';
import { startServer, RunningServer } from '../../src/host/server';
import { openTestPool, testDatabaseUrl, testPoolSize } from './test-database';

export interface TestServer extends RunningServer {
  config: AppConfig;
  pool: Pool;
}

/** The host app on the run's test database, listening on a free loopback port. */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    ISSUER: 'http://localhost:3000',
    DATABASE_URL: testDatabaseUrl(),
    DATABASE_POOL_SIZE: String(testPoolSize()),
    MIGRATIONS_RUN: 'false',
    LOG_LEVEL: 'error',
    // Specs run in parallel on one database, all from 127.0.0.1: shared counters would let one spec's
    // failures lock another's address. Specs of the shared stores ask for them.
    AUTH_FAILURE_STORE: 'memory',
    ...env,
  });
  const server = await startServer(config);
  const pool = openTestPool();
  return {
    ...server,
    config,
    pool,
    close: async () => {
      await pool.end();
      await server.close();
    },
  };
}

/** A name no other test uses, so specs can share one database. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}
