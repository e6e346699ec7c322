import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv, exitOf, run, startServerProcess, tempDataDir, waitFor } from './support/processes';
import { testDatabaseUrl } from './support/test-database';
import { runAdmin } from './support/admin-cli';

// These start the real entry point (`node dist/src/host/main.js`) on its own embedded data directory.
describe('the server process', () => {
  it('starts on the embedded database with nothing configured, answers /health, and exits 0 on SIGTERM', async () => {
    const dir = tempDataDir();
    const server = await startServerProcess({ DATABASE_URL: undefined, EMBEDDED_DATA_DIR: dir });
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', revocation_events: { failed_deliveries: 0 } });
    server.child.kill('SIGTERM');
    expect(await exitOf(server.child)).toBe(0);
  }, 120_000);

  it('lets the admin CLI join the running embedded database, and keeps the data across a restart', async () => {
    const dir = tempDataDir();
    const env = { DATABASE_URL: undefined, EMBEDDED_DATA_DIR: dir };
    const server = await startServerProcess(env);
    const created = await runAdmin(['client:create', '--id', 'joined', '--auth-method', 'none'], env);
    expect(created.code).toBe(0);
    server.child.kill('SIGTERM');
    expect(await exitOf(server.child)).toBe(0);
    // The directory is free again: the CLI opens it itself and finds the client.
    const listed = await runAdmin(['client:list'], env);
    expect((listed.json!.clients as Array<{ client_id: string }>).map((c) => c.client_id)).toEqual(['joined']);
    // Two embedded starts (a fresh directory migrated, then reopened) and two CLI runs: over Jest's 30 s
    // default on a loaded 2-core machine, now that the schema has more migrations.
  }, 120_000);

  it('refuses to start on an embedded directory held by another process, in one line naming EMBEDDED_DATA_DIR', async () => {
    const dir = tempDataDir();
    const server = await startServerProcess({ DATABASE_URL: undefined, EMBEDDED_DATA_DIR: dir });
    try {
      const second = await run('node', ['dist/src/host/main.js'], { DATABASE_URL: undefined, EMBEDDED_DATA_DIR: dir, PORT: '0' });
      expect(second.code).toBe(1);
      expect(second.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: .*in use by process \d+.*EMBEDDED_DATA_DIR/)]);
    } finally {
      server.child.kill('SIGTERM');
      await exitOf(server.child);
    }
    // A fresh embedded directory: the first process runs every migration on PGlite first (slow under load).
  }, 120_000);

  it('exits non-zero with one line naming DATABASE_URL when PostgreSQL is unreachable, and no credential of the URL in it', async () => {
    const url = 'postgres://app:s3cret@127.0.0.1:9/db?password=Sekrit123&sslpassword=KeyPass99&sslmode=disable';
    const r = await run('node', ['dist/src/host/main.js'], { DATABASE_URL: url, PORT: '0', DATABASE_CONNECT_TIMEOUT_MS: '2000' });
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual([expect.stringMatching(/^error: Cannot reach PostgreSQL at .*127\.0\.0\.1:9.*DATABASE_URL/)]);
    for (const secret of ['s3cret', 'Sekrit123', 'KeyPass99']) expect(r.stderr).not.toContain(secret);
  });

  it('exits non-zero with a message naming the variable when a setting is invalid', async () => {
    const r = await run('node', ['dist/src/host/main.js'], { PORT: 'eighty', DATABASE_URL: undefined });
    expect(r.code).toBe(1);
    // One message for one mistake (not one per broken bound).
    expect(r.stderr.trim().split('\n')).toEqual(['error: Invalid configuration: PORT="eighty": PORT must be a whole number from 0 to 65535']);
  });

  it('says in one line that the port is taken, and exits 1 without claiming to have started', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const { port } = taken.address() as AddressInfo;
    try {
      const r = await run('node', ['dist/src/host/main.js'], { DATABASE_URL: testDatabaseUrl(), HOST: '127.0.0.1', PORT: String(port), MIGRATIONS_RUN: 'false' });
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toEqual([`error: Port ${port} on 127.0.0.1 is already in use (PORT, HOST): stop the process that has it, or set PORT to a free port`]);
      expect(r.stdout).not.toContain('successfully started');
    } finally {
      taken.close();
    }
  });

  it('reads .env from its working directory, and the real environment wins over it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nor-dotenv-'));
    // PORT=abc in the file would stop startup: it starts because the real PORT wins.
    writeFileSync(join(dir, '.env'), `# as .env.example says\nDATABASE_URL=${testDatabaseUrl()}\nISSUER=https://dotenv.example.com\nPORT=abc\nMIGRATIONS_RUN=false\n`);
    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = spawn('node', [join(process.cwd(), 'dist/src/host/main.js')], { cwd: dir, env: childEnv({ DATABASE_URL: undefined, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' }) });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    try {
      const url = `http://127.0.0.1:${port}/.well-known/oauth-authorization-server`;
      await waitFor(async () => {
        if (child.exitCode !== null) throw new Error(`server exited: ${output}`);
        return (await fetch(url)).status === 200;
      }, 30000, 'the server to answer');
      expect(((await (await fetch(url)).json()) as { issuer: string }).issuer).toBe('https://dotenv.example.com');
      // The admin CLI run from that directory finds the same database through .env.
      const listed = await run('node', [join(process.cwd(), 'dist/src/host/cli/admin.js'), 'client:list'], { DATABASE_URL: undefined, PORT: String(port) }, 60000, dir);
      expect({ code: listed.code, stderr: listed.stderr }).toEqual({ code: 0, stderr: '' });
      expect(JSON.parse(listed.stdout)).toHaveProperty('clients');
    } finally {
      child.kill('SIGTERM');
      await exitOf(child);
    }
  });

  it('migration:show on an embedded directory with the server stopped leaves no lock file behind', async () => {
    const dir = tempDataDir();
    const env = { DATABASE_URL: undefined, EMBEDDED_DATA_DIR: dir };
    const shown = await run('node', ['node_modules/typeorm/cli.js', 'migration:show', '-d', 'dist/src/host/data-source.js'], env);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/InitialSchema1763790000000/);
    expect(existsSync(`${dir}.lock`)).toBe(false);
    // And the directory opens again at once, with no stale lock to step over.
    const again = await run('node', ['node_modules/typeorm/cli.js', 'migration:run', '-d', 'dist/src/host/data-source.js'], env);
    expect(again.code).toBe(0);
    expect(existsSync(`${dir}.lock`)).toBe(false);
  }, 90_000);
});
