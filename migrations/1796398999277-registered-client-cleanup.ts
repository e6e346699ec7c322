import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Whether client `c` was in use since p_cutoff: one of its grants was created or revoked since then, or is
 * not revoked and holds a token or an authorization code that had not expired by then (a live grant always
 * does), or an authorization request of it was made since then.
 */
const IN_USE = `(
  EXISTS (SELECT 1 FROM grants g WHERE g.client_id = c.client_id AND (
    g.created_at >= p_cutoff OR g.revoked_at >= p_cutoff
    OR (g.revoked_at IS NULL AND (
      EXISTS (SELECT 1 FROM access_tokens a WHERE a.grant_id = g.id AND a.revoked_at IS NULL AND a.expires_at >= p_cutoff)
      OR EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.grant_id = g.id AND r.revoked_at IS NULL AND (r.expires_at IS NULL OR r.expires_at >= p_cutoff))
      OR EXISTS (SELECT 1 FROM authorization_codes ac WHERE ac.grant_id = g.id AND ac.expires_at >= p_cutoff)))))
  OR EXISTS (SELECT 1 FROM authorization_requests ar WHERE ar.client_id = c.client_id AND ar.created_at >= p_cutoff))`;

/**
 * Cleanup of dynamically registered clients (RFC 7591) left unused: registered before the cutoff and
 * without a live grant since then. Operator-created clients (registered_at NULL) are never touched.
 */
export class RegisteredClientCleanup1796398999277 implements MigrationInterface {
  name = 'RegisteredClientCleanup1796398999277';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX clients_registered_at_idx ON clients (registered_at) WHERE registered_at IS NOT NULL`);
    // One batch, one transaction. The candidates are locked first (SKIP LOCKED: a client that a grant or an
    // authorization request is being created for holds a key-share lock, and is left for the next run); no
    // grant can then be created for them. The second statement sees, with a fresh snapshot, whatever was
    // committed before the lock, so a client that became in use meanwhile stays. Audit rows stay.
    await q.query(`
      CREATE FUNCTION oauth_cleanup_registered_clients(p_cutoff timestamptz, p_limit integer) RETURNS integer
      LANGUAGE plpgsql AS $fn$
      DECLARE
        v_candidates text[];
        v_clients text[];
        n_clients integer;
      BEGIN
        SELECT coalesce(array_agg(x.client_id), '{}') INTO v_candidates FROM (
          SELECT c.client_id FROM clients c
          WHERE c.registered_at < p_cutoff AND NOT ${IN_USE}
          ORDER BY c.registered_at LIMIT p_limit
          FOR UPDATE SKIP LOCKED
        ) x;
        SELECT coalesce(array_agg(c.client_id), '{}') INTO v_clients FROM clients c
          WHERE c.client_id = ANY (v_candidates) AND NOT ${IN_USE};
        DELETE FROM grants g WHERE g.client_id = ANY (v_clients);
        DELETE FROM clients c WHERE c.client_id = ANY (v_clients);
        GET DIAGNOSTICS n_clients = ROW_COUNT;
        RETURN n_clients;
      END
      $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION oauth_cleanup_registered_clients(timestamptz, integer)`);
    await q.query(`DROP INDEX clients_registered_at_idx`);
  }
}
