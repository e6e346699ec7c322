import { execFile } from 'node:child_process';
import { testDatabaseUrl } from './test-database';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON, when it is. */
  json?: Record<string, unknown>;
}

/** Runs the admin CLI exactly as documented: `npm run --silent admin -- <args>`. */
export function runAdmin(args: string[], env: Record<string, string | undefined> = { DATABASE_URL: testDatabaseUrl() }): Promise<CliResult> {
  return new Promise((resolve) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
    execFile('npm', ['run', '--silent', 'admin', '--', ...args], { env: childEnv, timeout: 60000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      let json: Record<string, unknown> | undefined;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stderr, json });
    });
  });
}
