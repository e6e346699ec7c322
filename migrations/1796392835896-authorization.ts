import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What logging a person in needs (RFC 6749 §4.1, RFC 7636, RFC 7591): the registered metadata of
 * clients, pending authorization requests, authorization codes, and the built-in login's local
 * accounts, browser sessions and remembered consents.
 *
 * A code's grant is created when the person completes the authorization, without tokens; the exchange
 * puts the first pair into it under the grant lock. So a grant revoked before its code was exchanged
 * (its user disabled, say) leaves the code useless, and a replayed code can revoke what its first use
 * produced (RFC 6749 §4.1.2).
 */
export class Authorization1796392835896 implements MigrationInterface {
  name = 'Authorization1796392835896';

  async up(q: QueryRunner): Promise<void> {
    // Metadata a client registered (RFC 7591 §2): what the server acts on has a column; the rest,
    // as registered (client_name and its localised variants, client_uri, logo_uri, tos_uri,
    // policy_uri, contacts), is kept as one JSON object and shown on the consent page.
    await q.query(`ALTER TABLE clients ADD COLUMN redirect_uris text[] NOT NULL DEFAULT '{}'`);
    await q.query(`ALTER TABLE clients ADD COLUMN response_types text[] NOT NULL DEFAULT '{}'`);
    await q.query(`ALTER TABLE clients ADD COLUMN application_type text NOT NULL DEFAULT 'web'
      CONSTRAINT clients_application_type_check CHECK (application_type IN ('web', 'native'))`);
    await q.query(`ALTER TABLE clients ADD COLUMN metadata jsonb NOT NULL DEFAULT '{}'`);
    // Set for clients that registered themselves (RFC 7591); cleanup deletes those left unused.
    await q.query(`ALTER TABLE clients ADD COLUMN registered_at timestamptz`);

    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        username text NOT NULL,
        password_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        disabled_at timestamptz,
        CONSTRAINT users_username_key UNIQUE (username)
      )`);
    // The built-in login's browser sessions: the cookie holds a random token, the table its hash.
    await q.query(`
      CREATE TABLE browser_sessions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        token_hash bytea NOT NULL,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        authenticated_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        ended_at timestamptz,
        CONSTRAINT browser_sessions_token_hash_key UNIQUE (token_hash)
      )`);
    await q.query(`CREATE INDEX browser_sessions_user_id_idx ON browser_sessions (user_id)`);
    // A consent is remembered per subject and client, for the set of scope tokens granted.
    await q.query(`
      CREATE TABLE consents (
        subject text NOT NULL,
        client_id text NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
        scope text[] NOT NULL,
        granted_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (subject, client_id)
      )`);
    await q.query(`CREATE INDEX consents_client_id_idx ON consents (client_id)`);
    // A validated authorization request waiting for the login step (the host's or the built-in one).
    await q.query(`
      CREATE TABLE authorization_requests (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        client_id text NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
        redirect_uri text NOT NULL,
        response_mode text NOT NULL CONSTRAINT authorization_requests_response_mode_check CHECK (response_mode IN ('query', 'fragment')),
        state text,
        scope text NOT NULL DEFAULT '',
        code_challenge text NOT NULL,
        prompt text,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        finished_at timestamptz
      )`);
    await q.query(`CREATE INDEX authorization_requests_expires_at_idx ON authorization_requests (expires_at)`);
    await q.query(`CREATE INDEX authorization_requests_client_id_idx ON authorization_requests (client_id)`);
    await q.query(`
      CREATE TABLE authorization_codes (
        code_hash bytea PRIMARY KEY,
        grant_id uuid NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
        redirect_uri text NOT NULL,
        code_challenge text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz
      )`);
    await q.query(`CREATE INDEX authorization_codes_grant_id_idx ON authorization_codes (grant_id)`);
    await q.query(`CREATE INDEX authorization_codes_expires_at_idx ON authorization_codes (expires_at)`);

    // RFC 6749 §4.1.3, RFC 7636 §4.6: one round trip, under the grant lock (the lock order of every
    // other function: grant first, then its tokens). p_challenge is BASE64URL(SHA256(code_verifier)),
    // computed by the caller. Outcomes: 'issued' (the first pair is in the grant), 'replay' (the code was
    // used before: its grant is revoked, RFC 6749 §4.1.2), 'invalid_grant' (unknown, expired, another
    // client's, another redirect URI, wrong verifier, or a grant revoked meanwhile).
    await q.query(`
      CREATE FUNCTION oauth_exchange_code(
        p_code_hash bytea, p_client_id text, p_redirect_uri text, p_challenge text,
        p_access_hash bytea, p_access_ttl integer, p_refresh_hash bytea, p_refresh_ttl integer
      ) RETURNS TABLE (outcome text, grant_id uuid, client_id text, subject text, scope text, reason text, revoked_at timestamptz)
      LANGUAGE plpgsql AS $fn$
      #variable_conflict use_column
      DECLARE
        v_grant_id uuid;
        g grants%ROWTYPE;
        c authorization_codes%ROWTYPE;
        v_access_id uuid;
      BEGIN
        SELECT ac.grant_id INTO v_grant_id FROM authorization_codes ac WHERE ac.code_hash = p_code_hash;
        IF v_grant_id IS NULL THEN
          RETURN QUERY SELECT 'invalid_grant'::text, NULL::uuid, NULL::text, NULL::text, NULL::text, NULL::text, NULL::timestamptz;
          RETURN;
        END IF;
        SELECT * INTO g FROM grants WHERE grants.id = v_grant_id FOR UPDATE;
        SELECT * INTO c FROM authorization_codes ac WHERE ac.code_hash = p_code_hash FOR UPDATE;
        IF g.client_id <> p_client_id THEN
          -- Another client's code proves nothing about the owner's session: refused, nothing revoked.
          RETURN QUERY SELECT 'invalid_grant'::text, NULL::uuid, NULL::text, NULL::text, NULL::text, NULL::text, NULL::timestamptz;
          RETURN;
        END IF;
        IF c.used_at IS NOT NULL THEN
          -- The revocation's reason and time only when this replay revoked the grant: a grant revoked
          -- before (by an earlier replay, say) is not announced again.
          RETURN QUERY SELECT 'replay'::text, r.grant_id, r.client_id, r.subject, r.scope,
              CASE WHEN r.outcome = 'revoked' THEN r.reason END, CASE WHEN r.outcome = 'revoked' THEN r.revoked_at END
            FROM oauth_revoke_grant(g.id, NULL, p_client_id, 'authorization_code_reuse') r;
          RETURN;
        END IF;
        IF g.revoked_at IS NOT NULL OR c.expires_at <= now() OR c.redirect_uri <> p_redirect_uri OR c.code_challenge <> p_challenge THEN
          RETURN QUERY SELECT 'invalid_grant'::text, NULL::uuid, NULL::text, NULL::text, NULL::text, NULL::text, NULL::timestamptz;
          RETURN;
        END IF;
        UPDATE authorization_codes SET used_at = now() WHERE authorization_codes.code_hash = p_code_hash;
        INSERT INTO access_tokens (grant_id, token_hash, expires_at)
          VALUES (g.id, p_access_hash, now() + make_interval(secs => p_access_ttl))
          RETURNING access_tokens.id INTO v_access_id;
        INSERT INTO refresh_tokens (grant_id, token_hash, access_token_id, expires_at)
          VALUES (g.id, p_refresh_hash, v_access_id, now() + make_interval(secs => p_refresh_ttl));
        RETURN QUERY SELECT 'issued'::text, g.id, g.client_id, g.subject, g.scope, NULL::text, NULL::timestamptz;
      END
      $fn$`);

    // Retention for the login flow: finished or expired requests, and codes past the cutoff. A code
    // that was never exchanged takes its grant (which has no tokens) with it.
    await q.query(`
      CREATE FUNCTION oauth_cleanup_authorizations(p_cutoff timestamptz)
      RETURNS TABLE (deleted_requests integer, deleted_codes integer, deleted_grants integer)
      LANGUAGE plpgsql AS $fn$
      DECLARE
        n_requests integer;
        n_codes integer;
        n_grants integer;
      BEGIN
        DELETE FROM authorization_requests r WHERE r.expires_at < p_cutoff;
        GET DIAGNOSTICS n_requests = ROW_COUNT;
        WITH stale AS (
          DELETE FROM authorization_codes ac WHERE ac.expires_at < p_cutoff RETURNING ac.grant_id, ac.used_at
        ), unexchanged AS (
          DELETE FROM grants g USING stale s WHERE g.id = s.grant_id AND s.used_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM access_tokens a WHERE a.grant_id = g.id)
            AND NOT EXISTS (SELECT 1 FROM refresh_tokens rt WHERE rt.grant_id = g.id)
          RETURNING g.id
        )
        SELECT (SELECT count(*) FROM stale), (SELECT count(*) FROM unexchanged) INTO n_codes, n_grants;
        RETURN QUERY SELECT n_requests, n_codes, n_grants;
      END
      $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION oauth_cleanup_authorizations(timestamptz)`);
    await q.query(`DROP FUNCTION oauth_exchange_code(bytea, text, text, text, bytea, integer, bytea, integer)`);
    await q.query(`DROP TABLE authorization_codes`);
    await q.query(`DROP TABLE authorization_requests`);
    await q.query(`DROP TABLE consents`);
    await q.query(`DROP TABLE browser_sessions`);
    await q.query(`DROP TABLE users`);
    await q.query(`ALTER TABLE clients DROP COLUMN registered_at`);
    await q.query(`ALTER TABLE clients DROP COLUMN metadata`);
    await q.query(`ALTER TABLE clients DROP COLUMN application_type`);
    await q.query(`ALTER TABLE clients DROP COLUMN response_types`);
    await q.query(`ALTER TABLE clients DROP COLUMN redirect_uris`);
  }
}
