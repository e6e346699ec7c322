import { readFileSync } from 'node:fs';
import { Client } from 'pg';
import { generateToken, hashToken } from '../src/grants/token-format';
import { runAdmin } from './support/admin-cli';
import { exitOf, run, startServerProcess, tempDataDir } from './support/processes';

describe('graceful shutdown on the embedded database', () => {
  it('completes in-flight revocations on SIGTERM, exits 0, and the data directory reopens intact', async () => {
    const dir = tempDataDir();
    const env = { DATABASE_URL: undefined, EMBEDDED_DATA_DIR: dir };
    const server = await startServerProcess(env);

    // Seed through the running server's embedded socket (its port is in the lock file).
    const { port } = JSON.parse(readFileSync(`${dir}.lock`, 'utf8')) as { port: number };
    const db = new Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
    await db.connect();
    await db.query(`INSERT INTO clients (client_id, token_endpoint_auth_method, grant_types) VALUES ('app', 'none', '{refresh_token}')`);
    const tokens: Array<{ grantId: string; token: string }> = [];
    for (let i = 0; i < 40; i++) {
      const token = generateToken('oat_');
      const { rows } = await db.query(
        `WITH g AS (INSERT INTO grants (client_id) VALUES ('app') RETURNING id)
         INSERT INTO access_tokens (grant_id, token_hash, expires_at) SELECT id, $1, now() + interval '1 hour' FROM g RETURNING grant_id`,
        [hashToken(token)],
      );
      tokens.push({ grantId: rows[0].grant_id, token });
    }
    await db.end();

    const answers = new Map<string, number | string>();
    let firstAnswer!: () => void;
    const answered = new Promise<void>((r) => (firstAnswer = r));
    const inFlight = tokens.map(({ grantId, token }) =>
      fetch(`${server.url}/oauth2/revoke`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `token=${token}` }).then(
        (res) => {
          answers.set(grantId, res.status);
          firstAnswer();
        },
        (err: Error) => answers.set(grantId, `failed: ${err.message}`),
      ),
    );
    await answered;
    server.child.kill('SIGTERM');
    await Promise.all(inFlight);
    expect(await exitOf(server.child)).toBe(0);

    const statuses = [...answers.values()];
    // Whatever reached the server was answered 200; nothing got a 5xx.
    expect(statuses.filter((s) => typeof s === 'number' && s !== 200)).toEqual([]);
    const ok = [...answers.entries()].filter(([, s]) => s === 200).map(([g]) => g);
    expect(ok.length).toBeGreaterThan(1);

    // Reopen the directory in a new process: every grant answered 200 is revoked, the client is there.
    const script = `const { PGlite } = require('@electric-sql/pglite');
      PGlite.create(process.argv[1]).then(async (db) => {
        const r = await db.query("SELECT id FROM grants WHERE revoked_at IS NOT NULL");
        console.log(JSON.stringify(r.rows.map((x) => x.id))); await db.close(); });`;
    const reopened = await run('node', ['-e', script, dir], env);
    expect(reopened.code).toBe(0);
    const revoked = new Set(JSON.parse(reopened.stdout) as string[]);
    for (const grantId of ok) expect(revoked.has(grantId)).toBe(true);
    const listed = await runAdmin(['client:list'], env);
    expect((listed.json!.clients as Array<{ client_id: string }>).map((c) => c.client_id)).toEqual(['app']);
  }, 120_000);
});
