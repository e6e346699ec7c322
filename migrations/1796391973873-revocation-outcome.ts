import type { MigrationInterface, QueryRunner } from 'typeorm';
import { RevocationFunctions1763790000001 } from './1763790000001-revocation-functions';
import { TokenLifecycle1795322263980 } from './1795322263980-token-lifecycle';

/**
 * The revocation functions answer the whole decision: besides the outcome, the reason they recorded and
 * the time of the revocation (the database's clock, the same `now()` the rows carry), so the application
 * builds its revocation event from their answer instead of working both out again. The refresh function
 * answers the same for the grant it revokes on reuse. Logic and lock order are unchanged.
 */
export class RevocationOutcome1796391973873 implements MigrationInterface {
  name = 'RevocationOutcome1796391973873';

  async up(q: QueryRunner): Promise<void> {
    // A function's result type can only change by dropping it; all three are replaced in this transaction.
    await q.query(`DROP FUNCTION oauth_revoke_token(bytea, text, text, text)`);
    await q.query(`DROP FUNCTION oauth_revoke_grant(uuid, text, text, text)`);
    await q.query(`DROP FUNCTION oauth_refresh_token(bytea, text, text[], bytea, integer, bytea, integer)`);
    await q.query(`
      CREATE FUNCTION oauth_revoke_grant(
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
        IF grant_changed OR tokens_changed > 0 THEN
          INSERT INTO revocation_audit (grant_id, client_id, subject, token_type, revoking_client_id, reason, revoked_at)
            VALUES (g.id, g.client_id, g.subject, p_token_type, p_revoking_client_id, p_reason, now());
          RETURN QUERY SELECT 'revoked'::text, g.id, g.client_id, g.subject, g.scope, p_reason, now();
        ELSE
          -- Nothing changed: the grant's own record of its revocation.
          RETURN QUERY SELECT 'already_revoked'::text, g.id, g.client_id, g.subject, g.scope, g.revocation_reason, g.revoked_at;
        END IF;
      END
      $fn$`);
    // The whole policy of a revocation request is decided here (RFC 7009 §2.1, Matrix): the reason
    // from who asked, and p_foreign_policy ('revoke' | 'ignore' | 'reject') for another client's token.
    await q.query(`
      CREATE FUNCTION oauth_revoke_token(
        p_token_hash bytea, p_token_type text, p_revoking_client_id text, p_foreign_policy text
      ) RETURNS TABLE (outcome text, grant_id uuid, client_id text, subject text, scope text, reason text, revoked_at timestamptz)
      LANGUAGE plpgsql AS $fn$
      #variable_conflict use_column
      DECLARE
        v_grant_id uuid;
        v_owner text;
        v_reason text;
      BEGIN
        IF p_token_type = 'access_token' THEN
          SELECT t.grant_id INTO v_grant_id FROM access_tokens t WHERE t.token_hash = p_token_hash;
        ELSE
          SELECT t.grant_id INTO v_grant_id FROM refresh_tokens t WHERE t.token_hash = p_token_hash;
        END IF;
        IF v_grant_id IS NULL THEN
          RETURN QUERY SELECT 'not_found'::text, NULL::uuid, NULL::text, NULL::text, NULL::text, NULL::text, NULL::timestamptz;
          RETURN;
        END IF;
        SELECT g.client_id INTO v_owner FROM grants g WHERE g.id = v_grant_id;
        IF p_revoking_client_id IS NULL THEN
          v_reason := 'anonymous_request';
        ELSIF p_revoking_client_id = v_owner THEN
          v_reason := 'client_request';
        ELSIF p_foreign_policy = 'revoke' THEN
          v_reason := 'foreign_client_request';
        ELSE
          RETURN QUERY SELECT ('foreign_' || p_foreign_policy)::text, v_grant_id, v_owner, NULL::text, NULL::text, NULL::text, NULL::timestamptz;
          RETURN;
        END IF;
        RETURN QUERY SELECT * FROM oauth_revoke_grant(v_grant_id, p_token_type, p_revoking_client_id, v_reason);
      END
      $fn$`);
    // As in TokenLifecycle1795322263980; only the reuse branch answers the revocation it made.
    await q.query(`
      CREATE FUNCTION oauth_refresh_token(
        p_token_hash bytea, p_client_id text, p_scope text[],
        p_access_hash bytea, p_access_ttl integer, p_refresh_hash bytea, p_refresh_ttl integer
      ) RETURNS TABLE (outcome text, grant_id uuid, client_id text, subject text, scope text, reason text, revoked_at timestamptz)
      LANGUAGE plpgsql AS $fn$
      #variable_conflict use_column
      DECLARE
        v_grant_id uuid;
        g grants%ROWTYPE;
        t refresh_tokens%ROWTYPE;
        s refresh_tokens%ROWTYPE;
        v_successor_used boolean := false;
        v_access_id uuid;
        v_refresh_id uuid;
        v_outcome text;
        v_granted text[];
        v_scope text;
      BEGIN
        SELECT r.grant_id INTO v_grant_id FROM refresh_tokens r WHERE r.token_hash = p_token_hash;
        IF v_grant_id IS NULL THEN
          RETURN QUERY SELECT 'invalid_grant'::text, NULL::uuid, NULL::text, NULL::text, NULL::text, NULL::text, NULL::timestamptz;
          RETURN;
        END IF;
        SELECT * INTO g FROM grants WHERE grants.id = v_grant_id FOR UPDATE;
        -- RFC 6749 §6: the token must have been issued to the authenticated client. Another
        -- client's token is only refused; it proves nothing about the owner's session.
        IF NOT FOUND OR g.client_id <> p_client_id OR g.revoked_at IS NOT NULL THEN
          RETURN QUERY SELECT 'invalid_grant'::text, NULL::uuid, NULL::text, NULL::text, NULL::text, NULL::text, NULL::timestamptz;
          RETURN;
        END IF;
        SELECT * INTO t FROM refresh_tokens r WHERE r.token_hash = p_token_hash FOR UPDATE;
        IF NOT FOUND THEN
          RETURN QUERY SELECT 'invalid_grant'::text, NULL::uuid, NULL::text, NULL::text, NULL::text, NULL::text, NULL::timestamptz;
          RETURN;
        END IF;
        IF t.consumed_at IS NOT NULL AND t.superseded_at IS NULL THEN
          SELECT * INTO s FROM refresh_tokens r WHERE r.id = t.successor_id FOR UPDATE;
          IF FOUND AND s.consumed_at IS NULL AND s.revoked_at IS NULL AND s.access_token_id IS NOT NULL THEN
            PERFORM 1 FROM access_tokens a WHERE a.id = s.access_token_id AND a.first_used_at IS NULL FOR UPDATE;
            v_successor_used := NOT FOUND;
          ELSE
            v_successor_used := true;
          END IF;
        END IF;
        -- RFC 9700 §4.14.2: reuse revokes the grant; the answer is that revocation's.
        IF t.superseded_at IS NOT NULL OR v_successor_used THEN
          RETURN QUERY SELECT 'reuse'::text, r.grant_id, r.client_id, r.subject, r.scope, r.reason, r.revoked_at
            FROM oauth_revoke_grant(g.id, 'refresh_token', p_client_id, 'refresh_token_reuse') r;
          RETURN;
        END IF;
        IF t.revoked_at IS NOT NULL OR (t.expires_at IS NOT NULL AND t.expires_at <= now()) THEN
          RETURN QUERY SELECT 'invalid_grant'::text, NULL::uuid, NULL::text, NULL::text, NULL::text, NULL::text, NULL::timestamptz;
          RETURN;
        END IF;
        v_granted := array_remove(string_to_array(g.scope, ' '), '');
        IF p_scope IS NOT NULL THEN
          IF NOT (v_granted @> p_scope) THEN
            RETURN QUERY SELECT 'invalid_scope'::text, NULL::uuid, NULL::text, NULL::text, NULL::text, NULL::text, NULL::timestamptz;
            RETURN;
          END IF;
          IF NOT (p_scope @> v_granted) THEN
            v_scope := array_to_string(p_scope, ' ');
          END IF;
        END IF;
        IF t.consumed_at IS NOT NULL THEN
          UPDATE access_tokens SET revoked_at = now() WHERE access_tokens.id = s.access_token_id AND access_tokens.revoked_at IS NULL;
          UPDATE refresh_tokens SET revoked_at = now(), superseded_at = now() WHERE refresh_tokens.id = s.id;
          v_outcome := 'retried';
        ELSE
          UPDATE access_tokens SET revoked_at = now() WHERE access_tokens.id = t.access_token_id AND access_tokens.revoked_at IS NULL;
          v_outcome := 'rotated';
        END IF;
        INSERT INTO access_tokens (grant_id, token_hash, expires_at, scope)
          VALUES (g.id, p_access_hash, now() + make_interval(secs => p_access_ttl), v_scope)
          RETURNING access_tokens.id INTO v_access_id;
        INSERT INTO refresh_tokens (grant_id, token_hash, access_token_id, expires_at)
          VALUES (g.id, p_refresh_hash, v_access_id, now() + make_interval(secs => p_refresh_ttl))
          RETURNING refresh_tokens.id INTO v_refresh_id;
        UPDATE refresh_tokens SET consumed_at = coalesce(refresh_tokens.consumed_at, now()), successor_id = v_refresh_id
          WHERE refresh_tokens.id = t.id;
        RETURN QUERY SELECT v_outcome, g.id, g.client_id, g.subject, coalesce(v_scope, g.scope), NULL::text, NULL::timestamptz;
      END
      $fn$`);
  }

  /**
   * Back to the landed definitions, taken from the migrations that created them (run against a
   * recorder), so this file does not keep a second copy of them.
   */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION oauth_revoke_token(bytea, text, text, text)`);
    await q.query(`DROP FUNCTION oauth_revoke_grant(uuid, text, text, text)`);
    await q.query(`DROP FUNCTION oauth_refresh_token(bytea, text, text[], bytea, integer, bytea, integer)`);
    await new RevocationFunctions1763790000001().up(q);
    const lifecycle = await recordedQueries(new TokenLifecycle1795322263980());
    await q.query(lifecycle.find((sql) => /CREATE FUNCTION oauth_refresh_token\(/.test(sql))!);
  }
}

/** The SQL a migration's up() sends, without running it. */
async function recordedQueries(migration: MigrationInterface): Promise<string[]> {
  const sent: string[] = [];
  await migration.up({ query: async (sql: string) => void sent.push(sql) } as unknown as QueryRunner);
  return sent;
}
