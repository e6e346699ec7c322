import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Cheaper revocations: a revocation sets `revoked_at` on every token of the grant, and while that column
 * was indexed each of those updates wrote a new entry into every index of the table (PostgreSQL's HOT
 * updates only apply when no indexed column changes). Without the two token `revoked_at` indexes, and with
 * room left on each page (fillfactor), the token updates of a revocation stay on their page and touch no
 * index: measured with pgbench on 200,000 grants, 2,657 → 3,193 revocations/s (see BENCHMARKS.md).
 *
 * Retention cleanup no longer finds revoked tokens by their own `revoked_at`: it finds the grants revoked
 * before the cutoff (grants_revoked_at_idx stays) and takes their tokens through the grant_id indexes. A
 * token revoked on its own while its grant lives on (the access token a refresh replaced, the successor a
 * lost-response retry replaced) goes at its expiry plus retention instead, as consumed refresh tokens did.
 */
/**
 * oauth_cleanup_batch with the two ways revoked tokens are found as parameters: everything else in it is
 * the same before and after this migration. Stale tokens are those expired before the cutoff, or revoked
 * (as the fragments say) before it. An expired access token stays while the refresh token issued with it
 * is live: logging out with a stale access token must still find the grant (and kill that refresh token).
 */
function cleanupBatchFunction(revokedAccess: string, revokedRefresh: string): string {
  return `
      CREATE OR REPLACE FUNCTION oauth_cleanup_batch(p_cutoff timestamptz, p_limit integer)
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
        SELECT coalesce(array_agg(x.id), '{}') INTO v_access FROM (
          (SELECT a.id FROM access_tokens a WHERE a.expires_at < p_cutoff
             AND NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.access_token_id = a.id AND r.revoked_at IS NULL
                             AND r.consumed_at IS NULL AND (r.expires_at IS NULL OR r.expires_at >= p_cutoff))
             LIMIT p_limit)
          UNION
          (${revokedAccess} LIMIT p_limit)
          LIMIT p_limit
        ) x;
        SELECT coalesce(array_agg(x.id), '{}') INTO v_refresh FROM (
          (SELECT r.id FROM refresh_tokens r WHERE r.expires_at < p_cutoff LIMIT p_limit)
          UNION
          (${revokedRefresh} LIMIT p_limit)
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
      $fn$`;
}

export class HotRevocation1795426765522 implements MigrationInterface {
  name = 'HotRevocation1795426765522';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX access_tokens_revoked_at_idx`);
    await q.query(`DROP INDEX refresh_tokens_revoked_at_idx`);
    // Pages written from now on keep a fifth free, so that a token's revocation (and introspection's
    // first-use mark) can put the new row version beside the old one.
    await q.query(`ALTER TABLE access_tokens SET (fillfactor = 80)`);
    await q.query(`ALTER TABLE refresh_tokens SET (fillfactor = 80)`);
    // Revoked tokens through their grant: grants_revoked_at_idx, then each token table's grant_id index.
    await q.query(
      cleanupBatchFunction(
        'SELECT a.id FROM grants g JOIN access_tokens a ON a.grant_id = g.id WHERE g.revoked_at < p_cutoff',
        'SELECT r.id FROM grants g JOIN refresh_tokens r ON r.grant_id = g.id WHERE g.revoked_at < p_cutoff',
      ),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    // The function as 1795322263980-token-lifecycle created it: revoked tokens by their own revoked_at.
    await q.query(
      cleanupBatchFunction(
        'SELECT a.id FROM access_tokens a WHERE a.revoked_at < p_cutoff',
        'SELECT r.id FROM refresh_tokens r WHERE r.revoked_at < p_cutoff',
      ),
    );
    await q.query(`ALTER TABLE refresh_tokens RESET (fillfactor)`);
    await q.query(`ALTER TABLE access_tokens RESET (fillfactor)`);
    await q.query(`CREATE INDEX refresh_tokens_revoked_at_idx ON refresh_tokens (revoked_at) WHERE revoked_at IS NOT NULL`);
    await q.query(`CREATE INDEX access_tokens_revoked_at_idx ON access_tokens (revoked_at) WHERE revoked_at IS NOT NULL`);
  }
}
