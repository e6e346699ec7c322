import { exitOf, run, startServerProcess, tempDataDir } from './support/processes';
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
  });

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
  });

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
  });

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
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: Invalid configuration: PORT="eighty"/)]);
  });
});
