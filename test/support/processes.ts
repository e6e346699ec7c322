import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A fresh directory for an embedded database of one test. */
export function tempDataDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'nor-test-')), 'pglite');
}

/** Env for a child process: the parent's, with `undefined` values removed. */
export function childEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete out[k];
  delete out.TEST_DATABASE_URL;
  return out;
}

export function run(cmd: string, args: string[], env: Record<string, string | undefined>, timeout = 60000, cwd?: string): Promise<Finished> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: childEnv(env), timeout, cwd }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Polls `check` until it returns true, for at most `ms` milliseconds. */
export async function waitFor(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** Starts `node dist/src/host/main.js` and waits until /health answers 200. */
export async function startServerProcess(
  env: Record<string, string | undefined>,
  /** Told of the child at once, so that a caller can stop it even when it never becomes healthy. */
  onSpawn?: (child: ChildProcess) => void,
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn('node', ['dist/src/host/main.js'], { env: childEnv({ PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env }) });
  onSpawn?.(child);
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`server exited: ${output}`);
    return (await fetch(`${url}/health`)).status === 200;
  }, 30000, 'the server to answer /health');
  return { child, url, output: () => output };
}

export function exitOf(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((r) => child.once('exit', (code) => r(code)));
}
