import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the token endpoint, introspection and retention cleanup need: first use of access tokens, the
 * mark of a refresh token replaced by a lost-response retry, indexes for cleanup and for the
 * foreign keys that cleanup's deletes follow, and the refresh and cleanup paths as server-side
 * functions (one round trip each).
 *
 * Lock order, as in oauth_revoke_grant: the grant row first (FOR UPDATE), then its tokens. Every
 * writer of a grant's tokens holds the grant lock, except introspection's first-use mark, which
 * touches one access token row and holds no other lock while it waits.
 */
export class TokenLifecycle1795322263980 implements MigrationInterface {
  name = 'TokenLifecycle1795322263980';

  async up(q: QueryRunner): Promise<void> {
    // Set by introspection when it first answers active for the token: the successor of a consumed
    // refresh token counts as used from then on (reuse detection, RFC 9700 §4.14.2).
    await q.query(`ALTER TABLE access_tokens ADD COLUMN first_used_at timestamptz`);
    // RFC 6749 §6: a refresh may ask for less than the grant's scope; the new access token then
    // carries its own. Null: the grant's scope.
    await q.query(`ALTER TABLE access_tokens ADD COLUMN scope text`);
    // Set (with revoked_at) on the unused successor that a lost-response retry replaced: presenting it
    // again is reuse, unlike a token revoked with its grant.
    await q.query(`ALTER TABLE refresh_tokens ADD COLUMN superseded_at timestamptz`);

    // Cleanup finds stale rows by these; partial indexes stay small, live tokens are never in them.
    await q.query(`CREATE INDEX access_tokens_expires_at_idx ON access_tokens (expires_at)`);
    await q.query(`CREATE INDEX access_tokens_revoked_at_idx ON access_tokens (revoked_at) WHERE revoked_at IS NOT NULL`);
    await q.query(`CREATE INDEX refresh_tokens_expires_at_idx ON refresh_tokens (expires_at) WHERE expires_at IS NOT NULL`);
    await q.query(`CREATE INDEX refresh_tokens_revoked_at_idx ON refresh_tokens (revoked_at) WHERE revoked_at IS NOT NULL`);
    await q.query(`CREATE INDEX grants_revoked_at_idx ON grants (revoked_at) WHERE revoked_at IS NOT NULL`);
    // Deleting a token sets these references to NULL (ON DELETE SET NULL): without an index each
    // deleted row would scan refresh_tokens.
    await q.query(`CREATE INDEX refresh_tokens_access_token_id_idx ON refresh_tokens (access_token_id) WHERE access_token_id IS NOT NULL`);
    await q.query(`CREATE INDEX refresh_tokens_successor_id_idx ON refresh_tokens (successor_id) WHERE successor_id IS NOT NULL`);

    // Outcomes: 'rotated' (a live token exchanged), 'retried' (a consumed token whose successor was
    // never used: the successor is revoked and a fresh pair issued), 'reuse' (the grant was revoked
    // by this call), 'invalid_grant', 'invalid_scope'. The new pair's hashes are passed in and only
    // stored for 'rotated' and 'retried'. p_scope: the requested scope tokens, or null for the grant's
    // scope; the returned scope is the new access token's.
    await q.query(`
      CREATE FUNCTION oauth_refresh_token(
        p_token_hash bytea, p_client_id text, p_scope text[],
        p_access_hash bytea, p_access_ttl integer, p_refresh_hash bytea, p_refresh_ttl integer
      ) RETURNS TABLE (outcome text, grant_id uuid, client_id text, subject text, scope text)
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
          RETURN QUERY SELECT 'invalid_grant'::text, NULL::uuid, NULL::text, NULL::text, NULL::text;
          RETURN;
        END IF;
        SELECT * INTO g FROM grants WHERE grants.id = v_grant_id FOR UPDATE;
        -- RFC 6749 §6: the token must have been issued to the authenticated client. Another
        -- client's token is only refused; it proves nothing about the owner's session.
        IF NOT FOUND OR g.client_id <> p_client_id OR g.revoked_at IS NOT NULL THEN
          RETURN QUERY SELECT 'invalid_grant'::text, NULL::uuid, NULL::text, NULL::text, NULL::text;
          RETURN;
        END IF;
        -- Under the grant lock nothing else changes this grant's tokens: read them as they are now.
        SELECT * INTO t FROM refresh_tokens r WHERE r.token_hash = p_token_hash FOR UPDATE;
        IF NOT FOUND THEN
          RETURN QUERY SELECT 'invalid_grant'::text, NULL::uuid, NULL::text, NULL::text, NULL::text;
          RETURN;
        END IF;
        IF t.consumed_at IS NOT NULL AND t.superseded_at IS NULL THEN
          SELECT * INTO s FROM refresh_tokens r WHERE r.id = t.successor_id FOR UPDATE;
          IF FOUND AND s.consumed_at IS NULL AND s.revoked_at IS NULL AND s.access_token_id IS NOT NULL THEN
            -- The successor's access token is locked too: an introspection marking its first use
            -- either committed before (and is seen here) or waits, then finds it revoked.
            PERFORM 1 FROM access_tokens a WHERE a.id = s.access_token_id AND a.first_used_at IS NULL FOR UPDATE;
            v_successor_used := NOT FOUND;
          ELSE
            -- Refreshed, gone, or in a state no retry leaves behind: count it as used.
            v_successor_used := true;
          END IF;
        END IF;
        -- RFC 9700 §4.14.2, Matrix: a refresh token that came back after its successor was used, or
        -- one a retry replaced, means two parties hold the session. Checked before expiry on purpose:
        -- an old stolen token is still evidence.
        IF t.superseded_at IS NOT NULL OR v_successor_used THEN
          PERFORM 1 FROM oauth_revoke_grant(g.id, 'refresh_token', p_client_id, 'refresh_token_reuse');
          RETURN QUERY SELECT 'reuse'::text, g.id, g.client_id, g.subject, g.scope;
          RETURN;
        END IF;
        IF t.revoked_at IS NOT NULL OR (t.expires_at IS NOT NULL AND t.expires_at <= now()) THEN
          RETURN QUERY SELECT 'invalid_grant'::text, NULL::uuid, NULL::text, NULL::text, NULL::text;
          RETURN;
        END IF;
        -- RFC 6749 §6: no scope beyond the grant's; the same scope (in any order) is no narrowing.
        v_granted := array_remove(string_to_array(g.scope, ' '), '');
        IF p_scope IS NOT NULL THEN
          IF NOT (v_granted @> p_scope) THEN
            RETURN QUERY SELECT 'invalid_scope'::text, NULL::uuid, NULL::text, NULL::text, NULL::text;
            RETURN;
          END IF;
          IF NOT (p_scope @> v_granted) THEN
            v_scope := array_to_string(p_scope, ' ');
          END IF;
        END IF;
        IF t.consumed_at IS NOT NULL THEN
          -- Matrix: the client may retry a refresh whose response was lost. The unused successor pair
          -- is revoked and marked, so that presenting it later counts as reuse.
          UPDATE access_tokens SET revoked_at = now() WHERE access_tokens.id = s.access_token_id AND access_tokens.revoked_at IS NULL;
          UPDATE refresh_tokens SET revoked_at = now(), superseded_at = now() WHERE refresh_tokens.id = s.id;
          v_outcome := 'retried';
        ELSE
          -- Rotation: the access token issued with the presented refresh token ends with it.
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
        RETURN QUERY SELECT v_outcome, g.id, g.client_id, g.subject, coalesce(v_scope, g.scope);
      END
      $fn$`);

    // One bounded batch of retention cleanup, in its own transaction. Rows are stale once expired or
    // revoked before p_cutoff. Their grants are locked first, skipping any that a refresh or a
    // revocation holds (they are picked up by the next batch or run), so cleanup never waits on the
    // hot paths and cannot deadlock with them. A grant goes once it is stale and has no tokens left.
    await q.query(`
      CREATE FUNCTION oauth_cleanup_batch(p_cutoff timestamptz, p_limit integer)
      RETURNS TABLE (deleted_access_tokens integer, deleted_refresh_tokens integer, deleted_grants integer)
      LANGUAGE plpgsql AS $fn$
      DECLARE
        v_access uuid[];
        v_refresh uuid[];
        v_grants uuid[];
        v_locked uuid[];
        n_access integer;
        n_refresh integer;
        n_grants integer;
      BEGIN
        -- An expired access token stays while the refresh token issued with it is live: logging out
        -- with a stale access token must still find the grant (and kill that refresh token).
        SELECT coalesce(array_agg(x.id), '{}') INTO v_access FROM (
          (SELECT a.id FROM access_tokens a WHERE a.expires_at < p_cutoff
             AND NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.access_token_id = a.id AND r.revoked_at IS NULL
                             AND r.consumed_at IS NULL AND (r.expires_at IS NULL OR r.expires_at >= p_cutoff))
             LIMIT p_limit)
          UNION
          (SELECT a.id FROM access_tokens a WHERE a.revoked_at < p_cutoff LIMIT p_limit)
          LIMIT p_limit
        ) x;
        SELECT coalesce(array_agg(x.id), '{}') INTO v_refresh FROM (
          (SELECT r.id FROM refresh_tokens r WHERE r.expires_at < p_cutoff LIMIT p_limit)
          UNION
          (SELECT r.id FROM refresh_tokens r WHERE r.revoked_at < p_cutoff LIMIT p_limit)
          LIMIT p_limit
        ) x;
        SELECT coalesce(array_agg(DISTINCT x.grant_id), '{}') INTO v_grants FROM (
          SELECT a.grant_id FROM access_tokens a WHERE a.id = ANY (v_access)
          UNION ALL
          SELECT r.grant_id FROM refresh_tokens r WHERE r.id = ANY (v_refresh)
        ) x;
        SELECT coalesce(array_agg(l.id), '{}') INTO v_locked FROM (
          SELECT g.id FROM grants g WHERE g.id = ANY (v_grants) ORDER BY g.id FOR UPDATE SKIP LOCKED
        ) l;
        DELETE FROM access_tokens a WHERE a.id = ANY (v_access) AND a.grant_id = ANY (v_locked);
        GET DIAGNOSTICS n_access = ROW_COUNT;
        DELETE FROM refresh_tokens r WHERE r.id = ANY (v_refresh) AND r.grant_id = ANY (v_locked);
        GET DIAGNOSTICS n_refresh = ROW_COUNT;
        -- A grant is stale when revoked before the cutoff, or never revoked and all its tokens gone
        -- (they were only deleted once expired or revoked before the cutoff).
        DELETE FROM grants g WHERE g.id = ANY (v_locked)
          AND (g.revoked_at < p_cutoff OR (g.revoked_at IS NULL AND g.created_at < p_cutoff))
          AND NOT EXISTS (SELECT 1 FROM access_tokens a WHERE a.grant_id = g.id)
          AND NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.grant_id = g.id);
        GET DIAGNOSTICS n_grants = ROW_COUNT;
        RETURN QUERY SELECT n_access, n_refresh, n_grants;
      END
      $fn$`);

    // Revoked grants whose tokens are all gone but that were not yet stale when their last token went
    // (a token can expire long before its grant is revoked). Found through grants_revoked_at_idx.
    await q.query(`
      CREATE FUNCTION oauth_cleanup_revoked_grants(p_cutoff timestamptz, p_limit integer)
      RETURNS integer
      LANGUAGE plpgsql AS $fn$
      DECLARE
        n integer;
      BEGIN
        DELETE FROM grants g WHERE g.id IN (
          SELECT c.id FROM grants c
          WHERE c.revoked_at < p_cutoff
            AND NOT EXISTS (SELECT 1 FROM access_tokens a WHERE a.grant_id = c.id)
            AND NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.grant_id = c.id)
          LIMIT p_limit
          FOR UPDATE SKIP LOCKED
        );
        GET DIAGNOSTICS n = ROW_COUNT;
        RETURN n;
      END
      $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION oauth_cleanup_revoked_grants(timestamptz, integer)`);
    await q.query(`DROP FUNCTION oauth_cleanup_batch(timestamptz, integer)`);
    await q.query(`DROP FUNCTION oauth_refresh_token(bytea, text, text[], bytea, integer, bytea, integer)`);
    await q.query(`DROP INDEX refresh_tokens_successor_id_idx`);
    await q.query(`DROP INDEX refresh_tokens_access_token_id_idx`);
    await q.query(`DROP INDEX grants_revoked_at_idx`);
    await q.query(`DROP INDEX refresh_tokens_revoked_at_idx`);
    await q.query(`DROP INDEX refresh_tokens_expires_at_idx`);
    await q.query(`DROP INDEX access_tokens_revoked_at_idx`);
    await q.query(`DROP INDEX access_tokens_expires_at_idx`);
    await q.query(`ALTER TABLE refresh_tokens DROP COLUMN superseded_at`);
    await q.query(`ALTER TABLE access_tokens DROP COLUMN scope`);
    await q.query(`ALTER TABLE access_tokens DROP COLUMN first_used_at`);
  }
}
