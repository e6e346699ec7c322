import type { Pool } from 'pg';
import { hashToken, isWellFormedToken } from '../src/grants/token-format';
import { runAdmin } from './support/admin-cli';
import { existsSync } from 'node:fs';
import { tempDataDir } from './support/processes';
import { openTestPool, testDatabaseUrl } from './support/test-database';
import { uniqueId } from './support/test-app';

describe('admin CLI (npm run --silent admin)', () => {
  let pool: Pool;
  beforeAll(() => {
    pool = openTestPool();
  });
  afterAll(() => pool.end());

  it('client:create makes a confidential client, prints its secret once and stores only a hash', async () => {
    const id = uniqueId('conf');
    const r = await runAdmin(['client:create', '--id', id, '--auth-method', 'client_secret_basic', '--name', 'Web app']);
    expect(r.code).toBe(0);
    expect(r.json).toEqual({
      client_id: id,
      client_secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['refresh_token', 'client_credentials'],
    });
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const { rows } = await pool.query('SELECT * FROM clients WHERE client_id = $1', [id]);
    expect(rows).toHaveLength(1);
    expect(rows[0].name).toBe('Web app');
    expect(rows[0].secret_hash).toMatch(/^sha256\$/);
    expect(JSON.stringify(rows[0])).not.toContain(r.json!.client_secret as string);
  });

  it('client:create makes a public client without a secret and with refresh_token only by default', async () => {
    const id = uniqueId('pub');
    const r = await runAdmin(['client:create', '--id', id, '--auth-method', 'none']);
    expect(r.code).toBe(0);
    expect(r.json).toEqual({ client_id: id, token_endpoint_auth_method: 'none', grant_types: ['refresh_token'] });
    const { rows } = await pool.query('SELECT secret_hash, grant_types FROM clients WHERE client_id = $1', [id]);
    expect(rows[0]).toEqual({ secret_hash: null, grant_types: ['refresh_token'] });
  });

  it('client:create takes --grant-types as a comma list', async () => {
    const id = uniqueId('gt');
    const r = await runAdmin(['client:create', '--id', id, '--auth-method', 'client_secret_post', '--grant-types', 'client_credentials']);
    expect(r.json).toMatchObject({ grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_post' });
  });

  it('names an unreachable DATABASE_URL without any credential of it: userinfo password and query parameters', async () => {
    const r = await runAdmin(['client:list'], {
      DATABASE_URL: 'postgres://app:s3cret@127.0.0.1:9/db?password=Sekrit123&sslkey=/keys/KeyFile77.pem',
      DATABASE_CONNECT_TIMEOUT_MS: '1000',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Cannot reach PostgreSQL at .*127\.0\.0\.1:9/);
    for (const secret of ['s3cret', 'Sekrit123', 'KeyFile77']) expect(r.stderr).not.toContain(secret);
  });

  it.each([
    [['client:create', '--auth-method', 'none'], /--id is required/],
    [['client:create', '--id', 'x', '--auth-method', 'magic'], /--auth-method must be one of/],
    [['client:create', '--id', 'x', '--auth-method', 'none', '--grant-types', 'password'], /--grant-types/],
    [['client:create', '--id', 'x', '--auth-method', 'none', '--colour', 'red'], /Unknown option '--colour'/],
    [['client:create', '--id', 'x', '--auth-method', 'none', '--grant-types', 'client_credentials'], /public client/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['grant:revoke', '--grant', 'not-a-uuid'], /--grant must be a grant id/],
    [['token:issue', '--client', 'nobody-by-this-name'], /unknown or disabled client/],
  ])('rejects bad input %j with a clear error and a non-zero exit', async (args, message) => {
    const r = await runAdmin(args);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });

  it('refuses a duplicate client id and leaves the first client untouched', async () => {
    const id = uniqueId('dup');
    await runAdmin(['client:create', '--id', id, '--auth-method', 'none']);
    const before = await pool.query('SELECT * FROM clients WHERE client_id = $1', [id]);
    const r = await runAdmin(['client:create', '--id', id, '--auth-method', 'client_secret_basic']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/already exists/);
    const after = await pool.query('SELECT * FROM clients WHERE client_id = $1', [id]);
    expect(after.rows).toEqual(before.rows);
  });

  it('token:issue creates a grant with one live access and one live refresh token, stored as hashes', async () => {
    const id = uniqueId('iss');
    await runAdmin(['client:create', '--id', id, '--auth-method', 'none']);
    const r = await runAdmin(['token:issue', '--client', id, '--subject', '@alice:example.org', '--scope', 'openid urn:matrix:client:api:*', '--access-ttl', '120']);
    expect(r.code).toBe(0);
    expect(r.json).toEqual({
      grant_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      access_token: expect.stringMatching(/^oat_/),
      refresh_token: expect.stringMatching(/^ort_/),
      token_type: 'Bearer',
      expires_in: 120,
    });
    expect(isWellFormedToken(r.json!.access_token as string)).toBe(true);
    const grant = await pool.query('SELECT client_id, subject, scope, revoked_at FROM grants WHERE id = $1', [r.json!.grant_id]);
    expect(grant.rows[0]).toEqual({ client_id: id, subject: '@alice:example.org', scope: 'openid urn:matrix:client:api:*', revoked_at: null });
    const access = await pool.query(
      `SELECT grant_id, revoked_at, round(extract(epoch FROM expires_at - created_at)) AS ttl FROM access_tokens WHERE token_hash = $1`,
      [hashToken(r.json!.access_token as string)],
    );
    expect(access.rows[0]).toEqual({ grant_id: r.json!.grant_id, revoked_at: null, ttl: '120' });
    const refresh = await pool.query('SELECT grant_id, revoked_at, consumed_at FROM refresh_tokens WHERE token_hash = $1', [hashToken(r.json!.refresh_token as string)]);
    expect(refresh.rows[0]).toEqual({ grant_id: r.json!.grant_id, revoked_at: null, consumed_at: null });
  });

  it.each([['0'], ['-5'], ['1.5'], ['soon']])('token:issue rejects --access-ttl %s and writes nothing', async (ttl) => {
    const id = uniqueId('ttl');
    await runAdmin(['client:create', '--id', id, '--auth-method', 'none']);
    const r = await runAdmin(['token:issue', '--client', id, '--access-ttl', ttl]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--access-ttl/);
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM grants WHERE client_id = $1', [id]);
    expect(rows[0].n).toBe(0);
  });

  it('grant:revoke revokes the grant and all its tokens, records an audit row, and says false the second time', async () => {
    const id = uniqueId('rev');
    await runAdmin(['client:create', '--id', id, '--auth-method', 'none']);
    const issued = (await runAdmin(['token:issue', '--client', id])).json!;
    const first = await runAdmin(['grant:revoke', '--grant', issued.grant_id as string]);
    expect(first.json).toEqual({ grant_id: issued.grant_id, revoked: true });
    const state = await pool.query(
      `SELECT g.revoked_at IS NOT NULL AS grant_revoked, g.revocation_reason,
              (SELECT bool_and(revoked_at IS NOT NULL) FROM access_tokens WHERE grant_id = g.id) AS access_revoked,
              (SELECT bool_and(revoked_at IS NOT NULL) FROM refresh_tokens WHERE grant_id = g.id) AS refresh_revoked,
              (SELECT count(*)::int FROM revocation_audit WHERE grant_id = g.id AND reason = 'admin') AS audit_rows
       FROM grants g WHERE g.id = $1`,
      [issued.grant_id],
    );
    expect(state.rows[0]).toEqual({ grant_revoked: true, revocation_reason: 'admin', access_revoked: true, refresh_revoked: true, audit_rows: 1 });
    const second = await runAdmin(['grant:revoke', '--grant', issued.grant_id as string]);
    expect(second.json).toEqual({ grant_id: issued.grant_id, revoked: false });
    const audit = await pool.query('SELECT count(*)::int AS n FROM revocation_audit WHERE grant_id = $1', [issued.grant_id]);
    expect(audit.rows[0].n).toBe(1);
  });

  it('grant:revoke of an unknown grant id answers revoked: false', async () => {
    const r = await runAdmin(['grant:revoke', '--grant', '00000000-0000-4000-8000-000000000000']);
    expect(r.json).toEqual({ grant_id: '00000000-0000-4000-8000-000000000000', revoked: false });
  });

  it('client:list lists clients without secrets or hashes', async () => {
    const id = uniqueId('list');
    const created = await runAdmin(['client:create', '--id', id, '--auth-method', 'client_secret_basic']);
    const r = await runAdmin(['client:list']);
    expect(r.code).toBe(0);
    const clients = r.json!.clients as Array<Record<string, unknown>>;
    expect(clients.find((c) => c.client_id === id)).toEqual({
      client_id: id,
      name: null,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['refresh_token', 'client_credentials'],
      created_at: expect.any(String),
      disabled_at: null,
    });
    expect(r.stdout).not.toContain(created.json!.client_secret as string);
    expect(r.stdout).not.toContain('sha256$');
  });

  it('help and --help print every command on stdout and exit 0', async () => {
    for (const args of [['help'], ['--help'], ['token:issue', '--help']]) {
      const r = await runAdmin(args, {});
      expect(r.code).toBe(0);
      for (const command of ['client:create', 'client:list', 'token:issue', 'grant:revoke', 'tokens:cleanup', '--database-url']) expect(r.stdout).toContain(command);
      expect(r.stderr).toBe('');
    }
  });

  it('--database-url names the database when DATABASE_URL is not set', async () => {
    const id = uniqueId('flag');
    const created = await runAdmin(['client:create', '--id', id, '--auth-method', 'none', '--database-url', testDatabaseUrl()], { DATABASE_URL: undefined });
    expect(created.code).toBe(0);
    const { rows } = await pool.query('SELECT client_id FROM clients WHERE client_id = $1', [id]);
    expect(rows).toEqual([{ client_id: id }]);
  });

  it('with no database configured and no embedded database, says so, exits 1 and creates nothing', async () => {
    const dir = tempDataDir();
    const r = await runAdmin(['client:list'], { DATABASE_URL: undefined, EMBEDDED_DATA_DIR: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: no database configured: DATABASE_URL is not set .*--create-embedded/)]);
    expect(existsSync(dir)).toBe(false);
  });

  it.each([['a"b'], ['caf\u00e9'], ['a\\b'], ['a  b']])('token:issue refuses the scope %j (RFC 6749 §3.3) as a usage mistake and issues nothing', async (scope) => {
    const client = uniqueId('scope');
    expect((await runAdmin(['client:create', '--id', client, '--auth-method', 'none'])).code).toBe(0);
    const r = await runAdmin(['token:issue', '--client', client, '--scope', scope]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--scope must be scope tokens .*RFC 6749 §3\.3/);
    expect((await pool.query('SELECT count(*)::int AS n FROM grants WHERE client_id = $1', [client])).rows[0].n).toBe(0);
  });
});
