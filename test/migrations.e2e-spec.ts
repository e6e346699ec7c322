import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { run, tempDataDir } from './support/processes';
import { testDatabaseKind } from './support/test-database';

const TABLES = ['access_tokens', 'clients', 'grants', 'refresh_tokens', 'revocation_audit'];

/** An empty database of the run's kind, as env for the npm scripts, and a way to list its tables. */
async function emptyDatabase(): Promise<{ env: Record<string, string | undefined>; tables: () => Promise<string[]>; drop: () => Promise<void> }> {
  if (testDatabaseKind() === 'postgres') {
    const name = `nor_mig_${randomBytes(4).toString('hex')}`;
    const admin = new Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const u = new URL(process.env.DATABASE_URL!);
    u.pathname = `/${name}`;
    const tables = async () => {
      const c = new Client({ connectionString: u.toString() });
      await c.connect();
      const { rows } = await c.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migrations' ORDER BY 1`);
      await c.end();
      return rows.map((r) => r.tablename as string);
    };
    return { env: { DATABASE_URL: u.toString() }, tables, drop: async () => { await admin.query(`DROP DATABASE ${name} WITH (FORCE)`); await admin.end(); } };
  }
  const dir = tempDataDir();
  const env = { DATABASE_URL: undefined, EMBEDDED_DATA_DIR: dir };
  const script = `const { PGlite } = require('@electric-sql/pglite');
    PGlite.create(process.argv[1]).then(async (db) => {
      const r = await db.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migrations' ORDER BY 1");
      console.log(JSON.stringify(r.rows.map((x) => x.tablename))); await db.close(); });`;
  const tables = async () => JSON.parse((await run('node', ['-e', script, dir], env)).stdout) as string[];
  return { env, tables, drop: async () => undefined };
}

describe('migrations', () => {
  it('build the full schema on an empty database, show as applied, and revert to nothing', async () => {
    const db = await emptyDatabase();
    try {
      const applied = await run('npm', ['run', '--silent', 'migration:run'], db.env);
      expect(applied.code).toBe(0);
      expect(await db.tables()).toEqual(TABLES);
      const shown = await run('npm', ['run', '--silent', 'migration:show'], db.env);
      expect(shown.stdout).toMatch(/\[X\].*InitialSchema1763790000000/);
      expect(shown.stdout).toMatch(/\[X\].*RevocationFunctions1763790000001/);
      expect(shown.stdout).toMatch(/\[X\].*TokenLifecycle1795322263980/);
      expect(shown.stdout).toMatch(/\[X\].*HotRevocation1795426765522/);
      for (let i = 0; i < 4; i++) expect((await run('npm', ['run', '--silent', 'migration:revert'], db.env)).code).toBe(0);
      expect(await db.tables()).toEqual([]);
      const after = await run('npm', ['run', '--silent', 'migration:show'], db.env);
      expect(after.stdout).toMatch(/\[ \].*InitialSchema1763790000000/);
    } finally {
      await db.drop();
    }
  }, 180_000);
});
