import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The device authorization grant (RFC 8628). A device code is stored as its SHA-256 only; its user code in
 * clear (it is short-lived, shown on the device, and must be looked up as typed). When a person enters the
 * user code, a pending authorization request of kind 'device' is made for it and goes through the login
 * step like any other; completing it approves the device code for that person. The token endpoint then
 * turns an approved code into a new grant, once (see DeviceCodeGrantHandler); a second redemption revokes
 * that grant (reason device_code_reuse), as a replayed authorization code does (RFC 6749 §4.1.2).
 */
export class DeviceAuthorization1796402655691 implements MigrationInterface {
  name = 'DeviceAuthorization1796402655691';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE authorization_requests ADD COLUMN kind text NOT NULL DEFAULT 'code'
      CONSTRAINT authorization_requests_kind_check CHECK (kind IN ('code', 'device'))`);
    // Shown on the consent page of a device request, so the person can compare it with the device's.
    await q.query(`ALTER TABLE authorization_requests ADD COLUMN user_code text`);
    await q.query(`
      CREATE TABLE device_codes (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        device_code_hash bytea NOT NULL,
        user_code text NOT NULL,
        client_id text NOT NULL CONSTRAINT device_codes_client_id_fkey REFERENCES clients (client_id) ON DELETE CASCADE,
        scope text NOT NULL DEFAULT '',
        status text NOT NULL DEFAULT 'pending' CONSTRAINT device_codes_status_check CHECK (status IN ('pending', 'approved', 'denied', 'issued')),
        subject text,
        grant_id uuid CONSTRAINT device_codes_grant_id_fkey REFERENCES grants (id) ON DELETE SET NULL,
        request_id uuid CONSTRAINT device_codes_request_id_fkey REFERENCES authorization_requests (id) ON DELETE SET NULL,
        interval_seconds integer NOT NULL,
        last_polled_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        CONSTRAINT device_codes_device_code_hash_key UNIQUE (device_code_hash),
        CONSTRAINT device_codes_user_code_key UNIQUE (user_code)
      )`);
    await q.query(`CREATE INDEX device_codes_client_id_idx ON device_codes (client_id)`);
    await q.query(`CREATE INDEX device_codes_grant_id_idx ON device_codes (grant_id)`);
    await q.query(`CREATE INDEX device_codes_request_id_idx ON device_codes (request_id)`);
    await q.query(`CREATE INDEX device_codes_expires_at_idx ON device_codes (expires_at)`);

    // RFC 8628 §3.5: a poll that did not get tokens (the issuing UPDATE in DeviceCodeGrantHandler found no
    // approved code), under the device code's row lock. Outcomes: 'authorization_pending', 'slow_down' (polled
    // sooner than the code's interval after the previous poll: the interval grows by p_step and is kept),
    // 'access_denied', 'expired_token', 'reuse' (the code was redeemed before: the grant it produced is
    // revoked through oauth_revoke_grant, audit row and event included), 'invalid_grant' (unknown, or
    // another client's code: refused, nothing changed).
    await q.query(`
      CREATE FUNCTION oauth_poll_device_code(p_code_hash bytea, p_client_id text, p_step integer)
      RETURNS TABLE (outcome text, interval_seconds integer, grant_id uuid, client_id text, subject text, scope text, reason text, revoked_at timestamptz)
      LANGUAGE plpgsql AS $fn$
      #variable_conflict use_column
      DECLARE
        d device_codes%ROWTYPE;
        v_outcome text;
        v_interval integer;
      BEGIN
        SELECT * INTO d FROM device_codes dc WHERE dc.device_code_hash = p_code_hash FOR UPDATE;
        IF NOT FOUND OR d.client_id <> p_client_id THEN
          RETURN QUERY SELECT 'invalid_grant'::text, NULL::integer, NULL::uuid, NULL::text, NULL::text, NULL::text, NULL::text, NULL::timestamptz;
          RETURN;
        END IF;
        IF d.status = 'issued' THEN
          -- The reason and time only when this redemption revoked the grant (not announced twice).
          RETURN QUERY SELECT 'reuse'::text, d.interval_seconds, r.grant_id, r.client_id, r.subject, r.scope,
              CASE WHEN r.outcome = 'revoked' THEN r.reason END, CASE WHEN r.outcome = 'revoked' THEN r.revoked_at END
            FROM oauth_revoke_grant(d.grant_id, NULL, p_client_id, 'device_code_reuse') r;
          RETURN;
        END IF;
        v_interval := d.interval_seconds;
        IF d.expires_at <= now() THEN
          v_outcome := 'expired_token';
        ELSIF d.status = 'denied' THEN
          v_outcome := 'access_denied';
        ELSIF d.last_polled_at IS NOT NULL AND now() < d.last_polled_at + make_interval(secs => d.interval_seconds) THEN
          v_outcome := 'slow_down';
          v_interval := d.interval_seconds + p_step;
        ELSE
          -- Pending, or approved after the issuing statement looked: the next poll gets the tokens.
          v_outcome := 'authorization_pending';
        END IF;
        UPDATE device_codes dc SET last_polled_at = now(), interval_seconds = v_interval WHERE dc.id = d.id;
        RETURN QUERY SELECT v_outcome, v_interval, NULL::uuid, NULL::text, NULL::text, NULL::text, NULL::text, NULL::timestamptz;
      END
      $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION oauth_poll_device_code(bytea, text, integer)`);
    await q.query(`DROP TABLE device_codes`);
    await q.query(`ALTER TABLE authorization_requests DROP COLUMN user_code`);
    await q.query(`ALTER TABLE authorization_requests DROP COLUMN kind`);
  }
}
