import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One notification per revocation instead of two. A revocation through `oauth_revoke_grant` (every path:
 * the endpoint, reuse and replay detection, the CLI, the account page) always writes an audit row, and
 * that row's notification now names the grant: `r:<audit id>:<grant id>`, which both the caches (evict
 * the grant) and the event outbox (read the row) act on. The grant and access-token triggers stay quiet
 * while the function revokes, told so by a transaction-local setting it sets around its updates; any other
 * revocation (an operator's own UPDATE, a token revoked alone) still sends `g:<grant id>` as before.
 *
 * Measured (BENCHMARKS.md): each notification costs PostgreSQL and the listening process about 80 µs per
 * revocation, with one notification less the revoke path sheds about that much of each.
 *
 * Instances older than this migration read `r:` payloads as a bare audit id: stop them before it runs.
 */
const QUIET = 'oauth.revocation_audited';

const ROW_TRIGGERS: ReadonlyArray<[name: string, table: string]> = [
  ['grants_revoked_notify', 'grants'],
  ['access_tokens_revoked_notify', 'access_tokens'],
];

function rowTrigger(name: string, table: string, quietWhenAudited: boolean): string {
  const quiet = quietWhenAudited ? ` AND current_setting('${QUIET}', true) IS DISTINCT FROM 'on'` : '';
  return `CREATE TRIGGER ${name} AFTER UPDATE OF revoked_at ON ${table} FOR EACH ROW
      WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL${quiet}) EXECUTE FUNCTION oauth_notify_invalidation()`;
}

function auditNotification(withGrant: boolean): string {
  const payload = withGrant ? `'r:' || NEW.id::text || ':' || NEW.grant_id::text` : `'r:' || NEW.id::text`;
  return `
      CREATE OR REPLACE FUNCTION oauth_notify_revocation_event() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        PERFORM pg_notify('oauth_invalidate', ${payload});
        RETURN NULL;
      END
      $fn$`;
}

/** oauth_revoke_grant as RevocationOutcome1796391973873 made it; `quiet` adds the setting around its updates. */
function revokeGrantFunction(quiet: boolean): string {
  const hush = quiet ? `PERFORM set_config('${QUIET}', 'on', true);` : '';
  const speak = quiet ? `PERFORM set_config('${QUIET}', 'off', true);` : '';
  return `
      CREATE OR REPLACE FUNCTION oauth_revoke_grant(
        p_grant_id uuid, p_token_type text, p_revoking_client_id text, p_reason text
      ) RETURNS TABLE (outcome text, grant_id uuid, client_id text, subject text, scope text, reason text, revoked_at timestamptz)
      LANGUAGE plpgsql AS $fn$
      #variable_conflict use_column
      DECLARE
        g grants%ROWTYPE;
        grant_changed boolean;
        tokens_changed integer;
        n integer;
      BEGIN
        SELECT * INTO g FROM grants WHERE grants.id = p_grant_id FOR UPDATE;
        IF NOT FOUND THEN
          RETURN QUERY SELECT 'not_found'::text, NULL::uuid, NULL::text, NULL::text, NULL::text, NULL::text, NULL::timestamptz;
          RETURN;
        END IF;
        ${hush}
        UPDATE grants SET revoked_at = now(), revoked_by_client_id = p_revoking_client_id, revocation_reason = p_reason
          WHERE grants.id = p_grant_id AND grants.revoked_at IS NULL;
        grant_changed := FOUND;
        UPDATE access_tokens SET revoked_at = now()
          WHERE access_tokens.grant_id = p_grant_id AND access_tokens.revoked_at IS NULL;
        GET DIAGNOSTICS tokens_changed = ROW_COUNT;
        UPDATE refresh_tokens SET revoked_at = now()
          WHERE refresh_tokens.grant_id = p_grant_id AND refresh_tokens.revoked_at IS NULL;
        GET DIAGNOSTICS n = ROW_COUNT;
        tokens_changed := tokens_changed + n;
        ${speak}
        IF grant_changed OR tokens_changed > 0 THEN
          -- Its notification (r:<id>:<grant>) speaks for the updates above.
          INSERT INTO revocation_audit (grant_id, client_id, subject, token_type, revoking_client_id, reason, revoked_at)
            VALUES (g.id, g.client_id, g.subject, p_token_type, p_revoking_client_id, p_reason, now());
          RETURN QUERY SELECT 'revoked'::text, g.id, g.client_id, g.subject, g.scope, p_reason, now();
        ELSE
          -- Nothing changed: the grant's own record of its revocation.
          RETURN QUERY SELECT 'already_revoked'::text, g.id, g.client_id, g.subject, g.scope, g.revocation_reason, g.revoked_at;
        END IF;
      END
      $fn$`;
}

export class OneRevocationNotification1796413244919 implements MigrationInterface {
  name = 'OneRevocationNotification1796413244919';

  // In an order where every step leaves each revocation announced with its grant, should the steps ever
  // run outside one transaction: up() names the grant in r: before the triggers may go quiet; down()
  // makes the triggers speak again before r: stops naming it.
  async up(q: QueryRunner): Promise<void> {
    await q.query(auditNotification(true));
    await this.rowTriggers(q, true);
    await q.query(revokeGrantFunction(true));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(revokeGrantFunction(false));
    await this.rowTriggers(q, false);
    await q.query(auditNotification(false));
  }

  private async rowTriggers(q: QueryRunner, quietWhenAudited: boolean): Promise<void> {
    for (const [name, table] of ROW_TRIGGERS) {
      await q.query(`DROP TRIGGER ${name} ON ${table}`);
      await q.query(rowTrigger(name, table, quietWhenAudited));
    }
  }
}
