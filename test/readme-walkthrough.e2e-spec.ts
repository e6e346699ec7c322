import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exitOf, run, startServerProcess, tempDataDir } from './support/processes';

/** The README's walkthrough block, exactly as a reader copies it. */
function walkthrough(): string {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const m = readme.match(/## Walkthrough \(curl, embedded database\)[\s\S]*?```sh\n([\s\S]*?)```/);
  if (!m) throw new Error('README.md has no walkthrough block');
  return m[1];
}

const hasTools = ['jq', 'curl'].every((tool) => {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`]);
    return true;
  } catch {
    return false;
  }
});

// The walkthrough is about the embedded database, whichever database the rest of the run uses.
(hasTools ? describe : describe.skip)('the README walkthrough (needs jq and curl)', () => {
  it('assigns every shell variable once, before it is used', () => {
    const script = walkthrough();
    const assigned = [...script.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]);
    expect(assigned.length).toBeGreaterThan(5);
    // One name, one value: no variable stands for two different tokens along the way.
    expect(assigned.filter((name, i) => assigned.indexOf(name) !== i)).toEqual([]);
  });

  it('runs as written under `set -u`, and each step answers what its comment says', async () => {
    const dir = tempDataDir();
    const server = await startServerProcess({ DATABASE_URL: undefined, EMBEDDED_DATA_DIR: dir });
    try {
      const script = walkthrough()
        .replaceAll('http://localhost:3000', server.url)
        .replaceAll('localhost:3000', server.url)
        // Built once by the global setup; `npm run admin` would build again before every command.
        .replaceAll('npm run --silent admin --', 'node dist/src/host/cli/admin.js');
      // -u: a variable used before it is set stops the walkthrough; pipefail: so does a failed CLI call.
      const r = await run('bash', ['-euo', 'pipefail', '-c', script], { DATABASE_URL: undefined, EMBEDDED_DATA_DIR: dir }, 120_000);
      expect(r.code).toBe(0);
      // stderr has curl's progress meter for the `curl -i` steps, and nothing else.
      expect(r.stderr).not.toMatch(/unbound variable|error|not found/i);
      const out = r.stdout;
      // Logout (revoke with the access token) killed the refresh token too.
      expect(out).toMatch(/HTTP\/1\.1 200 OK[\s\S]*?\{"active":false\}/);
      // The second access token was good, then the reuse of the first refresh token revoked the session.
      expect(out).toMatch(/\{"active":true,"client_id":"element","scope":"openid","sub":"@bob:example\.org"/);
      expect(out).toContain('"error":"invalid_grant","error_description":"The refresh token was already used; the session has been revoked as a precaution; sign in again."}{"active":false}');
      expect(out).toMatch(/"scope":"metrics:read"/);
      // The device sign-in: pending, then the person's Allow on the verification and login pages, then tokens.
      expect(out).toMatch(/"user_code":"[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}"/);
      expect(out).toContain('{"error":"authorization_pending"');
      expect(out).toMatch(/\/device\?result=approved\n\{"access_token":"oat_\w+","token_type":"Bearer","expires_in":3600,"refresh_token":"ort_\w+","scope":"openid"\}/);
      // Carol signed in on the account page and signed her session out there: its refresh token is dead.
      expect(out).toMatch(/303 \S+\/account$/m);
      expect(out).toMatch(/303 \S+\/account\?notice=ended$/m);
      expect(out).toContain('{"error":"invalid_grant","error_description":"The refresh token is invalid, expired, revoked, or was issued to another client; sign in again."}');
      expect(out).toContain('{"deleted_access_tokens":0,"deleted_refresh_tokens":0,"deleted_grants":0,"deleted_authorization_requests":0,"deleted_authorization_codes":0,"deleted_device_codes":0,"deleted_clients":0}');
      expect(out).toContain('{"status":"ok","revocation_events":{"failed_deliveries":0}}');
    } finally {
      server.child.kill('SIGTERM');
      await exitOf(server.child);
    }
  }, 180_000);
});
