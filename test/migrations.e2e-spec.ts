import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { OAUTH_MIGRATIONS } from '../src/schema/entities';
import { run, tempDataDir } from './support/processes';
import { testDatabaseKind } from './support/test-database';

const TABLES = ['access_tokens', 'auth_failure_windows', 'authorization_codes', 'authorization_requests', 'browser_sessions', 'clients', 'consents', 'device_codes', 'grants', 'refresh_tokens', 'revocation_audit', 'revocation_event_deliveries', 'revocation_event_listeners', 'users'];
const FUNCTIONS = ['oauth_cleanup_authorizations', 'oauth_cleanup_batch', 'oauth_cleanup_registered_clients', 'oauth_cleanup_revoked_grants', 'oauth_exchange_code', 'oauth_notify_deleted', 'oauth_notify_invalidation', 'oauth_notify_revocation_event', 'oauth_poll_device_code', 'oauth_refresh_token', 'oauth_revoke_grant', 'oauth_revoke_token', 'oauth_revoke_tokens'];
const LIFECYCLE_FUNCTIONS = ['oauth_cleanup_batch', 'oauth_cleanup_revoked_grants', 'oauth_refresh_token', 'oauth_revoke_grant', 'oauth_revoke_token'];
const REVOCATION_RESULT = 'TABLE(outcome text, grant_id uuid, client_id text, subject text, scope text, reason text, revoked_at timestamp with time zone)';
const LANDED_REVOCATION_RESULT = 'TABLE(outcome text, grant_id uuid, client_id text, subject text, scope text)';

interface Schema {
  tables: string[];
  functions: Record<string, string>;
  indexes: string[];
  /** Each trigger's definition, by name. */
  triggers: Record<string, string>;
  /** The source of the functions a revocation's notifications depend on. */
  sources: Record<string, string>;
  /** The SQL TypeORM would run to make the schema match the entities: empty when nothing drifted. */
  drift: string[];
}

/**
 * Reads the schema of the database the npm scripts use, in a process of its own (the embedded database
 * is a directory that only one process may open): tables, our functions (not those of extensions TypeORM
 * installs, such as uuid-ossp) with their result types, indexes,
 * and TypeORM's own comparison of the schema with what the entities declare.
 */
const INSPECT = `
const { DataSource } = require('typeorm');
const { OAUTH_ENTITIES } = require('./dist/src/schema/entities');
const { EmbeddedDatabase } = require('./dist/src/database/embedded-database');
(async () => {
  let url = process.env.DATABASE_URL, embedded;
  if (!url) { embedded = await EmbeddedDatabase.start(process.env.EMBEDDED_DATA_DIR); url = embedded.url; }
  const ds = await new DataSource({ type: 'postgres', url, entities: OAUTH_ENTITIES, extra: { max: 1 } }).initialize();
  const tables = (await ds.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migrations' ORDER BY 1")).map((r) => r.tablename);
  const functions = Object.fromEntries((await ds.query(
    "SELECT p.proname, pg_get_function_result(p.oid) AS result FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e') ORDER BY 1",
  )).map((r) => [r.proname, r.result]));
  const indexes = (await ds.query("SELECT indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1")).map((r) => r.indexname);
  const triggers = Object.fromEntries((await ds.query("SELECT tgname, pg_get_triggerdef(oid) AS def FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1")).map((r) => [r.tgname, r.def]));
  const sources = Object.fromEntries((await ds.query("SELECT proname, prosrc FROM pg_proc WHERE proname IN ('oauth_revoke_grant', 'oauth_notify_revocation_event')")).map((r) => [r.proname, r.prosrc]));
  const drift = tables.length ? (await ds.driver.createSchemaBuilder().log()).upQueries.map((q) => q.query) : [];
  process.stdout.write(JSON.stringify({ tables, functions, indexes, triggers, sources, drift }));
  await ds.destroy();
  await embedded?.stop();
})().catch((err) => { console.error(err); process.exit(1); });`;

/** An empty database of the run's kind, as env for the npm scripts. */
async function emptyDatabase(): Promise<{ env: Record<string, string | undefined>; drop: () => Promise<void> }> {
  if (testDatabaseKind() === 'postgres') {
    const name = `nor_mig_${randomBytes(4).toString('hex')}`;
    const admin = new Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const u = new URL(process.env.DATABASE_URL!);
    u.pathname = `/${name}`;
    return { env: { DATABASE_URL: u.toString() }, drop: async () => { await admin.query(`DROP DATABASE ${name} WITH (FORCE)`); await admin.end(); } };
  }
  return { env: { DATABASE_URL: undefined, EMBEDDED_DATA_DIR: tempDataDir() }, drop: async () => undefined };
}

describe('migrations', () => {
  it('build the schema the entities declare, with every function and index, and each one reverts to what came before', async () => {
    const db = await emptyDatabase();
    const inspect = async (): Promise<Schema> => {
      const r = await run('node', ['-e', INSPECT], db.env);
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout) as Schema;
    };
    let applied = OAUTH_MIGRATIONS.length;
    /** Reverts the newest migrations down to and including `name`. */
    const revertThrough = async (name: string) => {
      const target = OAUTH_MIGRATIONS.findIndex((m) => m.name === name);
      expect(target).toBeGreaterThanOrEqual(0);
      while (applied > target) {
        expect((await run('npm', ['run', '--silent', 'migration:revert'], db.env)).code).toBe(0);
        applied--;
      }
    };
    try {
      expect((await run('npm', ['run', '--silent', 'migration:run'], db.env)).code).toBe(0);
      const full = await inspect();
      expect(full.tables).toEqual(TABLES);
      expect(Object.keys(full.functions)).toEqual(FUNCTIONS);
      expect(full.drift).toEqual([]);
      expect(full.functions.oauth_revoke_grant).toBe(REVOCATION_RESULT);
      expect(full.functions.oauth_revoke_token).toBe(REVOCATION_RESULT);
      expect(full.functions.oauth_refresh_token).toBe(REVOCATION_RESULT);
      // HotRevocation: revoked tokens are found through their grant, so a revocation's updates stay HOT.
      expect(full.indexes).toEqual(expect.arrayContaining(['grants_revoked_at_idx', 'access_tokens_token_hash_key', 'refresh_tokens_token_hash_key']));
      expect(full.indexes).not.toContain('access_tokens_revoked_at_idx');
      expect(full.indexes).not.toContain('refresh_tokens_revoked_at_idx');
      expect(full.indexes).toContain('auth_failure_windows_ends_at_idx');
      expect(full.indexes).toContain('clients_registered_at_idx');

      const shown = await run('npm', ['run', '--silent', 'migration:show'], db.env);
      for (const migration of OAUTH_MIGRATIONS) expect(shown.stdout).toMatch(new RegExp(`\\[X\\].*${migration.name}`));

      expect(full.indexes).toEqual(expect.arrayContaining(['device_codes_device_code_hash_key', 'device_codes_user_code_key', 'device_codes_expires_at_idx', 'device_codes_grant_id_idx']));

      expect(full.indexes).toContain('grants_subject_idx');

      // OneRevocationNotification: the grant and access-token triggers are quiet while oauth_revoke_grant revokes.
      for (const name of ['grants_revoked_notify', 'access_tokens_revoked_notify']) expect(full.triggers[name]).toMatch(/current_setting\('oauth\.revocation_audited'/);
      expect(full.sources.oauth_notify_revocation_event).toMatch(/NEW\.grant_id/);
      expect(full.sources.oauth_revoke_grant).toMatch(/set_config\('oauth\.revocation_audited', 'on', true\)/);

      // AnnounceAfterCommit: the audit row does not notify from a session that announces after commit.
      expect(full.triggers.revocation_audit_notify).toMatch(/WHEN \(\(current_setting\('oauth\.announce_after_commit'::text, true\) IS DISTINCT FROM 'on'::text\)\)/);

      // GroupedRevocation: several requests in one statement, each answered by its position.
      expect(full.functions.oauth_revoke_tokens).toBe(REVOCATION_RESULT.replace('TABLE(', 'TABLE(request integer, '));

      // Back one step at a time, checking what each down() restores.
      await revertThrough('GroupedRevocation1796440000000');
      const ungrouped = await inspect();
      const UNGROUPED_FUNCTIONS = FUNCTIONS.filter((f) => f !== 'oauth_revoke_tokens');
      expect(Object.keys(ungrouped.functions)).toEqual(UNGROUPED_FUNCTIONS);
      expect(ungrouped.drift).toEqual([]);
      await revertThrough('AnnounceAfterCommit1796422977986');
      const notifyInside = await inspect();
      expect(notifyInside.drift).toEqual([]);
      expect(notifyInside.triggers.revocation_audit_notify).toBe(
        'CREATE TRIGGER revocation_audit_notify AFTER INSERT ON public.revocation_audit FOR EACH ROW EXECUTE FUNCTION oauth_notify_revocation_event()',
      );
      await revertThrough('OneRevocationNotification1796413244919');
      const twoNotifications = await inspect();
      expect(twoNotifications.functions).toEqual(ungrouped.functions);
      expect(twoNotifications.drift).toEqual([]);
      expect(Object.keys(twoNotifications.triggers)).toEqual(Object.keys(full.triggers));
      for (const name of ['grants_revoked_notify', 'access_tokens_revoked_notify']) {
        expect(twoNotifications.triggers[name]).not.toMatch(/current_setting/);
        expect(twoNotifications.triggers[name]).toMatch(/WHEN \(\(\(old\.revoked_at IS NULL\) AND \(new\.revoked_at IS NOT NULL\)\)\)/);
      }
      expect(twoNotifications.sources.oauth_notify_revocation_event).not.toMatch(/grant_id/);
      expect(twoNotifications.sources.oauth_revoke_grant).not.toMatch(/revocation_audited/);
      expect(twoNotifications.sources.oauth_revoke_grant).toMatch(/INSERT INTO revocation_audit/);
      await revertThrough('Account1796402774360');
      const beforeAccount = await inspect();
      expect(beforeAccount.tables).toEqual(TABLES);
      expect(beforeAccount.indexes).not.toContain('grants_subject_idx');
      // What drifts then is exactly what Account adds: two columns of grants and the index of live grants by subject.
      expect([...beforeAccount.drift].sort()).toEqual([
        'ALTER TABLE "grants" ADD "browser_session_id" uuid',
        'ALTER TABLE "grants" ADD "last_used_at" TIMESTAMP WITH TIME ZONE',
        'CREATE INDEX "grants_subject_idx" ON "grants"  ("subject") WHERE revoked_at IS NULL',
      ]);
      await revertThrough('DeviceAuthorization1796402655691');
      const beforeDevice = await inspect();
      expect(beforeDevice.tables).toEqual(TABLES.filter((t) => t !== 'device_codes'));
      expect(Object.keys(beforeDevice.functions)).toEqual(UNGROUPED_FUNCTIONS.filter((f) => f !== 'oauth_poll_device_code'));
      // What drifts then is only what DeviceAuthorization adds: the device table and the request's kind and user code.
      expect(beforeDevice.drift.join('\n')).toMatch(/device_codes/);
      expect(beforeDevice.drift.filter((q) => !/device_codes|"kind"|"user_code"|authorization_requests_kind_check/.test(q))).toEqual(beforeAccount.drift);
      await revertThrough('RegisteredClientCleanup1796398999277');
      const beforeClientCleanup = await inspect();
      expect(Object.keys(beforeClientCleanup.functions)).not.toContain('oauth_cleanup_registered_clients');
      expect(beforeClientCleanup.indexes).not.toContain('clients_registered_at_idx');
      expect(beforeClientCleanup.tables).toEqual(beforeDevice.tables);
      await revertThrough('AuthFailureWindows1796395156226');
      expect((await inspect()).tables).toEqual(beforeDevice.tables.filter((t) => t !== 'auth_failure_windows'));
      await revertThrough('RevocationOutcome1796391973873');
      const landed = await inspect();
      expect(landed.functions.oauth_revoke_grant).toBe(LANDED_REVOCATION_RESULT);
      expect(landed.functions.oauth_revoke_token).toBe(LANDED_REVOCATION_RESULT);
      expect(landed.functions.oauth_refresh_token).toBe(LANDED_REVOCATION_RESULT);
      expect(landed.tables).toEqual(['access_tokens', 'clients', 'grants', 'refresh_tokens', 'revocation_audit']);
      expect(Object.keys(landed.functions)).toEqual(LIFECYCLE_FUNCTIONS);
      await revertThrough('HotRevocation1795426765522');
      const beforeHot = await inspect();
      expect(beforeHot.indexes).toEqual(expect.arrayContaining(['access_tokens_revoked_at_idx', 'refresh_tokens_revoked_at_idx']));
      expect(Object.keys(beforeHot.functions)).toEqual(LIFECYCLE_FUNCTIONS);
      await revertThrough('InitialSchema1763790000000');
      const empty = await inspect();
      expect(empty.tables).toEqual([]);
      expect(empty.functions).toEqual({});
      const after = await run('npm', ['run', '--silent', 'migration:show'], db.env);
      expect(after.stdout).toMatch(/\[ \].*InitialSchema1763790000000/);
    } finally {
      await db.drop();
    }
  }, 240_000);
});
