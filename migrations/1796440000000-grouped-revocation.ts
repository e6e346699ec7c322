import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `oauth_revoke_tokens`: several revocation requests in one statement, so in one transaction with one commit
 * (group commit). The revoke path sends the requests that arrive while its statements are busy together
 * (src/revocation/revocation.service.ts): PostgreSQL then pays the statement, the transaction and the WAL
 * flush once per group instead of once per request, which is most of what a revocation costs it
 * (bench/group-commit-cost.mjs; BENCHMARKS.md, notes of 2026-12-05).
 *
 * Each request is decided by `oauth_revoke_token`, exactly as alone: same outcome, audit row and reason
 * (the group shares one transaction, so one `now()`); a grant named twice is revoked by the first request
 * and `already_revoked` for the second. `request` is the
 * request's 1-based position in the arrays. The grants are taken in grant id order (requests for unknown
 * tokens first), and a group never waits for a grant another transaction holds (a refresh, a subject's
 * revocation, an operator's transaction): it skips it (`FOR UPDATE SKIP LOCKED`) and answers `deferred` for
 * that request, which the caller then runs alone, after the group has committed. So a group neither waits
 * nor makes its other requests wait on one busy grant, and it cannot be part of a lock cycle.
 */
export class GroupedRevocation1796440000000 implements MigrationInterface {
  name = 'GroupedRevocation1796440000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION oauth_revoke_tokens(
        p_token_hashes bytea[], p_token_types text[], p_revoking_client_ids text[], p_foreign_policies text[]
      ) RETURNS TABLE (request integer, outcome text, grant_id uuid, client_id text, subject text, scope text, reason text, revoked_at timestamptz)
      LANGUAGE plpgsql AS $fn$
      DECLARE
        r record;
      BEGIN
        FOR r IN
          SELECT t.i::integer AS i, t.h, t.k, t.c, t.p, coalesce(a.grant_id, rt.grant_id) AS g
            FROM unnest(p_token_hashes, p_token_types, p_revoking_client_ids, p_foreign_policies) WITH ORDINALITY AS t(h, k, c, p, i)
            LEFT JOIN access_tokens a ON t.k = 'access_token' AND a.token_hash = t.h
            LEFT JOIN refresh_tokens rt ON t.k <> 'access_token' AND rt.token_hash = t.h
           ORDER BY g NULLS FIRST, t.i
        LOOP
          IF r.g IS NOT NULL THEN
            PERFORM 1 FROM grants WHERE grants.id = r.g FOR UPDATE SKIP LOCKED;
            IF NOT FOUND THEN
              RETURN QUERY SELECT r.i, 'deferred'::text, r.g, NULL::text, NULL::text, NULL::text, NULL::text, NULL::timestamptz;
              CONTINUE;
            END IF;
          END IF;
          RETURN QUERY SELECT r.i, x.* FROM oauth_revoke_token(r.h, r.k, r.c, r.p) x;
        END LOOP;
      END
      $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION oauth_revoke_tokens(bytea[], text[], text[], text[])`);
  }
}
