import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A revocation's audit row no longer notifies from inside the revoking transaction when the session says
 * its process announces the grant itself once the transaction has committed (`oauth.announce_after_commit`
 * = on, which the server's and the admin CLI's pool connections carry: see `ANNOUNCE_AFTER_COMMIT_OPTION`
 * in src/database/invalidation-listener.ts).
 *
 * Why: PostgreSQL lets one notifying transaction at a time commit in the whole cluster, and holds that turn
 * until the commit's WAL is flushed, so a NOTIFY inside every revocation serialises revocations through
 * their WAL flushes (BENCHMARKS.md, bench/notify-cost.sh). A notification sent by a statement of its own
 * after the commit is a transaction of its own: no revocation waits for it, only other announcements do.
 *
 * Nothing may be lost by it: the audit row is still written in the revoking transaction (the outbox), and
 * every instance reads the outbox a few times a second, evicting what each new row names, so a revocation
 * whose process died between its commit and its announcement still reaches every cache within that
 * interval. Every other session (an operator's psql, a host app's pool without the option) notifies inside
 * its transaction as before, and so do the grant and access-token triggers for revocations made by hand.
 */
const WHEN_NOT_ANNOUNCED_AFTER = `current_setting('oauth.announce_after_commit', true) IS DISTINCT FROM 'on'`;

function auditTrigger(announcedAfterCommit: boolean): string {
  const when = announcedAfterCommit ? ` WHEN (${WHEN_NOT_ANNOUNCED_AFTER})` : '';
  return `CREATE TRIGGER revocation_audit_notify AFTER INSERT ON revocation_audit FOR EACH ROW${when} EXECUTE FUNCTION oauth_notify_revocation_event()`;
}

export class AnnounceAfterCommit1796422977986 implements MigrationInterface {
  name = 'AnnounceAfterCommit1796422977986';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER revocation_audit_notify ON revocation_audit`);
    await q.query(auditTrigger(true));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER revocation_audit_notify ON revocation_audit`);
    await q.query(auditTrigger(false));
  }
}
