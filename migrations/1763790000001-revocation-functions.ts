import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The revoke path as two server-side functions, so that a revocation is one SQL round trip whatever
 * the number of tokens in the grant. Lock order everywhere in this schema: the grant row first,
 * then its tokens; token issuance takes the same grant lock, so no token can be born into a revoked
 * grant. Inside plpgsql each statement takes a fresh snapshot, so tokens committed while we waited
 * for the grant lock are seen and revoked.
 */
export class RevocationFunctions1763790000001 implements MigrationInterface {
  name = 'RevocationFunctions1763790000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION oauth_revoke_grant(
        p_grant_id uuid, p_token_type text, p_revoking_client_id text, p_reason text
      ) RETURNS TABLE (outcome text, grant_id uuid, client_id text, subject text, scope text)
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
          RETURN QUERY SELECT 'not_found'::text, NULL::uuid, NULL::text, NULL::text, NULL::text;
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
          INSERT INTO revocation_audit (grant_id, client_id, subject, token_type, revoking_client_id, reason)
            VALUES (g.id, g.client_id, g.subject, p_token_type, p_revoking_client_id, p_reason);
          RETURN QUERY SELECT 'revoked'::text, g.id, g.client_id, g.subject, g.scope;
        ELSE
          RETURN QUERY SELECT 'already_revoked'::text, g.id, g.client_id, g.subject, g.scope;
        END IF;
      END
      $fn$`);
    // p_foreign_policy: what to do when p_revoking_client_id is set and is not the grant's client
    // ('revoke' | 'ignore' | 'reject'). Anonymous callers (null client) are decided by the caller.
    await q.query(`
      CREATE FUNCTION oauth_revoke_token(
        p_token_hash bytea, p_token_type text, p_revoking_client_id text, p_foreign_policy text
      ) RETURNS TABLE (outcome text, grant_id uuid, client_id text, subject text, scope text)
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
          RETURN QUERY SELECT 'not_found'::text, NULL::uuid, NULL::text, NULL::text, NULL::text;
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
          RETURN QUERY SELECT ('foreign_' || p_foreign_policy)::text, v_grant_id, v_owner, NULL::text, NULL::text;
          RETURN;
        END IF;
        RETURN QUERY SELECT * FROM oauth_revoke_grant(v_grant_id, p_token_type, p_revoking_client_id, v_reason);
      END
      $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION oauth_revoke_token(bytea, text, text, text)`);
    await q.query(`DROP FUNCTION oauth_revoke_grant(uuid, text, text, text)`);
  }
}
