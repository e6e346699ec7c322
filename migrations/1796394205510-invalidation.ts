import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every write that must evict what an instance caches sends a NOTIFY on channel `oauth_invalidate` from
 * inside its own transaction: PostgreSQL delivers it at commit, and never for a transaction that rolls
 * back. Triggers rather than calls in each function, so no path can forget it — the SQL functions, the
 * admin CLI, and an operator's own UPDATE alike. Payloads: `g:<grant id>` when a grant or one of its
 * access tokens is revoked, `c:<client id>` when a client changes or goes. Identical notifications of one
 * transaction are delivered once, so revoking a grant with many tokens sends one.
 */
export class Invalidation1796394205510 implements MigrationInterface {
  name = 'Invalidation1796394205510';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION oauth_notify_invalidation() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF TG_TABLE_NAME = 'grants' THEN
          PERFORM pg_notify('oauth_invalidate', 'g:' || NEW.id::text);
        ELSIF TG_TABLE_NAME = 'access_tokens' THEN
          PERFORM pg_notify('oauth_invalidate', 'g:' || NEW.grant_id::text);
        ELSE
          PERFORM pg_notify('oauth_invalidate', 'c:' || OLD.client_id);
        END IF;
        RETURN NULL;
      END
      $fn$`);
    await q.query(`CREATE TRIGGER grants_revoked_notify AFTER UPDATE OF revoked_at ON grants FOR EACH ROW
      WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL) EXECUTE FUNCTION oauth_notify_invalidation()`);
    await q.query(`CREATE TRIGGER access_tokens_revoked_notify AFTER UPDATE OF revoked_at ON access_tokens FOR EACH ROW
      WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL) EXECUTE FUNCTION oauth_notify_invalidation()`);
    await q.query(`CREATE TRIGGER clients_changed_notify AFTER UPDATE OR DELETE ON clients FOR EACH ROW EXECUTE FUNCTION oauth_notify_invalidation()`);
    // Deleting a live grant or access token (an operator's erasure, say) must evict it too. Once per
    // statement, from the deleted rows that could be cached as valid; past 100 grants, one \`f:\` (flush
    // everything) instead of a notification each. Retention cleanup deletes only dead rows: it sends little.
    await q.query(`
      CREATE FUNCTION oauth_notify_deleted() RETURNS trigger LANGUAGE plpgsql AS $fn$
      DECLARE
        v_grants uuid[];
      BEGIN
        IF TG_TABLE_NAME = 'grants' THEN
          SELECT array_agg(id) INTO v_grants FROM old_rows WHERE revoked_at IS NULL;
        ELSE
          SELECT array_agg(DISTINCT grant_id) INTO v_grants FROM old_rows WHERE revoked_at IS NULL AND expires_at > now();
        END IF;
        IF cardinality(v_grants) > 100 THEN
          PERFORM pg_notify('oauth_invalidate', 'f:');
        ELSIF v_grants IS NOT NULL THEN
          PERFORM pg_notify('oauth_invalidate', 'g:' || g::text) FROM unnest(v_grants) g;
        END IF;
        RETURN NULL;
      END
      $fn$`);
    await q.query(`CREATE TRIGGER grants_deleted_notify AFTER DELETE ON grants REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION oauth_notify_deleted()`);
    await q.query(`CREATE TRIGGER access_tokens_deleted_notify AFTER DELETE ON access_tokens REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION oauth_notify_deleted()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER access_tokens_deleted_notify ON access_tokens`);
    await q.query(`DROP TRIGGER grants_deleted_notify ON grants`);
    await q.query(`DROP FUNCTION oauth_notify_deleted()`);
    await q.query(`DROP TRIGGER clients_changed_notify ON clients`);
    await q.query(`DROP TRIGGER access_tokens_revoked_notify ON access_tokens`);
    await q.query(`DROP TRIGGER grants_revoked_notify ON grants`);
    await q.query(`DROP FUNCTION oauth_notify_invalidation()`);
  }
}
