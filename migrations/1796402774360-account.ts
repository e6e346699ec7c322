import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The account page (issue 15): when a grant was last used (a refresh, or the first check of an access
 * token; written at most once a minute per grant), the browser session of the built-in login it was made
 * in (to mark "this browser"; no foreign key: grants/ knows no login, and a dangling id only means "not
 * this browser"), and an index to list a person's live grants.
 */
export class Account1796402774360 implements MigrationInterface {
  name = 'Account1796402774360';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE grants ADD COLUMN last_used_at timestamptz`);
    await q.query(`ALTER TABLE grants ADD COLUMN browser_session_id uuid`);
    await q.query(`CREATE INDEX grants_subject_idx ON grants (subject) WHERE revoked_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX grants_subject_idx`);
    await q.query(`ALTER TABLE grants DROP COLUMN browser_session_id`);
    await q.query(`ALTER TABLE grants DROP COLUMN last_used_at`);
  }
}
