import { execFile } from 'node:child_process';
import type { Pool } from 'pg';
import { verifyPassword } from '../src/login/password-hash';
import { runAdmin } from './support/admin-cli';
import { openTestPool, testDatabaseUrl } from './support/test-database';
import { uniqueId } from './support/test-app';

/** `npm run --silent admin -- <args>` with `input` on standard input, as the README shows. */
function adminWithInput(args: string[], input: string): Promise<{ code: number; stdout: string; stderr: string; json?: Record<string, unknown> }> {
  return new Promise((resolve) => {
    const child = execFile('npm', ['run', '--silent', 'admin', '--', ...args], { env: { ...process.env, DATABASE_URL: testDatabaseUrl() }, timeout: 60000 }, (err, stdout, stderr) => {
      let json: Record<string, unknown> | undefined;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr, json });
    });
    child.stdin!.end(input);
  });
}

describe('admin CLI: local users of the built-in login', () => {
  let pool: Pool;
  beforeAll(() => {
    pool = openTestPool();
  });
  afterAll(() => pool.end());

  it('user:create reads the password from standard input, prints {subject, username} and stores only a scrypt hash', async () => {
    const username = uniqueId('alice');
    const r = await adminWithInput(['user:create', '--username', username], 'correct horse battery staple\n');
    expect(r.code).toBe(0);
    expect(r.json).toEqual({ subject: expect.stringMatching(/^[0-9a-f-]{36}$/), username });
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const { rows } = await pool.query('SELECT id, password_hash, disabled_at FROM users WHERE username = $1', [username]);
    expect(rows).toEqual([{ id: r.json!.subject, password_hash: expect.stringMatching(/^scrypt\$ln=17,r=8,p=1\$/), disabled_at: null }]);
    expect(rows[0].password_hash).not.toContain('correct horse');
    await expect(verifyPassword('correct horse battery staple', rows[0].password_hash)).resolves.toBe(true);
  });

  it.each([
    [['user:create', '--username', 'x'], '', /reads the password from standard input/],
    [['user:create', '--username', 'bob-short'], 'short\n', /at least 8 characters/],
    [['user:create', '--username', 'Not Valid!'], 'long enough password\n', /username must be/],
    [['user:create', '--username', 'bob', '--password', 'hunter22hunter22'], 'x\n', /Unknown option '--password'/],
    [['user:disable', '--username', 'nobody-by-this-name'], '', /no user/],
  ])('refuses %j with a message and a non-zero exit, writing nothing', async (args, input, message) => {
    const r = await adminWithInput(args, input);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });

  it('refuses a username that is taken (case-insensitively)', async () => {
    const username = uniqueId('carol');
    expect((await adminWithInput(['user:create', '--username', username], 'first password 1\n')).code).toBe(0);
    const r = await adminWithInput(['user:create', '--username', username.toUpperCase()], 'second password 2\n');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/is taken/);
  }, 60000);

  it('user:disable revokes every live grant of the user (audit rows, reason user_disabled) and ends their browser sessions', async () => {
    const username = uniqueId('dave');
    const created = await adminWithInput(['user:create', '--username', username], 'dave password 123\n');
    const subject = created.json!.subject as string;
    const clientId = uniqueId('app');
    await runAdmin(['client:create', '--id', clientId, '--auth-method', 'none']);
    const grants = [
      (await runAdmin(['token:issue', '--client', clientId, '--subject', subject])).json!.grant_id as string,
      (await runAdmin(['token:issue', '--client', clientId, '--subject', subject])).json!.grant_id as string,
    ];
    const other = (await runAdmin(['token:issue', '--client', clientId, '--subject', 'someone-else'])).json!.grant_id as string;
    await pool.query(`INSERT INTO browser_sessions (token_hash, user_id, expires_at) VALUES (decode(md5(random()::text), 'hex'), $1, now() + interval '1 day'), (decode(md5(random()::text), 'hex'), $1, now() + interval '1 day')`, [subject]);

    const r = await adminWithInput(['user:disable', '--username', username], '');
    expect(r.code).toBe(0);
    expect(r.json).toEqual({ subject, username, disabled: true, revoked_grants: 2, ended_sessions: 2 });

    const { rows: users } = await pool.query('SELECT disabled_at FROM users WHERE id = $1', [subject]);
    expect(users[0].disabled_at).not.toBeNull();
    const { rows: g } = await pool.query('SELECT id, revoked_at IS NOT NULL AS revoked, revocation_reason FROM grants WHERE id = ANY($1) ORDER BY id', [[...grants, other]]);
    expect(g.find((x) => x.id === other)).toMatchObject({ revoked: false });
    for (const id of grants) expect(g.find((x) => x.id === id)).toMatchObject({ revoked: true, revocation_reason: 'user_disabled' });
    const { rows: live } = await pool.query(
      `SELECT (SELECT count(*)::int FROM access_tokens WHERE grant_id = ANY($1) AND revoked_at IS NULL) + (SELECT count(*)::int FROM refresh_tokens WHERE grant_id = ANY($1) AND revoked_at IS NULL) AS n`,
      [grants],
    );
    expect(live[0].n).toBe(0);
    const { rows: audit } = await pool.query('SELECT grant_id, reason FROM revocation_audit WHERE grant_id = ANY($1) ORDER BY grant_id', [grants]);
    expect(audit).toEqual([...grants].sort().map((id) => ({ grant_id: id, reason: 'user_disabled' })));
    const { rows: sessions } = await pool.query('SELECT count(*)::int AS n FROM browser_sessions WHERE user_id = $1 AND ended_at IS NULL', [subject]);
    expect(sessions[0].n).toBe(0);

    // Disabling again changes nothing and says so.
    const again = await adminWithInput(['user:disable', '--username', username], '');
    expect(again.json).toEqual({ subject, username, disabled: true, revoked_grants: 0, ended_sessions: 0 });
  }, 120000); // seven CLI runs, each a process that opens the application
});
