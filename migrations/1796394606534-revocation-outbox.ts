import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Durable revocation events: every revocation already writes a `revocation_audit` row in its own
 * transaction (the outbox). A trigger announces each new row (`r:<id>` on the invalidation channel, at
 * commit), and the application delivers it from there: to every instance's listeners, and to each
 * once-per-cluster listener exactly once it succeeded, recorded in `revocation_event_deliveries`.
 */
export class RevocationOutbox1796394606534 implements MigrationInterface {
  name = 'RevocationOutbox1796394606534';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION oauth_notify_revocation_event() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        PERFORM pg_notify('oauth_invalidate', 'r:' || NEW.id::text);
        RETURN NULL;
      END
      $fn$`);
    await q.query(`CREATE TRIGGER revocation_audit_notify AFTER INSERT ON revocation_audit FOR EACH ROW EXECUTE FUNCTION oauth_notify_revocation_event()`);
    // One row per once-per-cluster listener: from which audit row on it is owed events, and its failures.
    // Its row is also the lock that lets one instance at a time deliver to it.
    await q.query(`
      CREATE TABLE revocation_event_listeners (
        listener text PRIMARY KEY,
        horizon bigint NOT NULL,
        failures bigint NOT NULL DEFAULT 0,
        last_error text,
        last_failure_at timestamptz
      )`);
    await q.query(`
      CREATE TABLE revocation_event_deliveries (
        listener text NOT NULL REFERENCES revocation_event_listeners (listener) ON DELETE CASCADE,
        audit_id bigint NOT NULL,
        delivered_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (listener, audit_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE revocation_event_deliveries`);
    await q.query(`DROP TABLE revocation_event_listeners`);
    await q.query(`DROP TRIGGER revocation_audit_notify ON revocation_audit`);
    await q.query(`DROP FUNCTION oauth_notify_revocation_event()`);
  }
}
