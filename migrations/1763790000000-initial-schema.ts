import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Clients, grants, access and refresh tokens, and the revocation audit trail. */
export class InitialSchema1763790000000 implements MigrationInterface {
  name = 'InitialSchema1763790000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE clients (
        client_id text PRIMARY KEY,
        name text,
        token_endpoint_auth_method text NOT NULL
          CHECK (token_endpoint_auth_method IN ('client_secret_basic', 'client_secret_post', 'none')),
        secret_hash text,
        grant_types text[] NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        disabled_at timestamptz,
        CONSTRAINT clients_secret_matches_method
          CHECK ((token_endpoint_auth_method = 'none') = (secret_hash IS NULL))
      )`);
    await q.query(`
      CREATE TABLE grants (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        client_id text NOT NULL REFERENCES clients (client_id),
        subject text,
        scope text NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        revoked_by_client_id text,
        revocation_reason text
      )`);
    await q.query(`CREATE INDEX grants_client_id_idx ON grants (client_id)`);
    await q.query(`
      CREATE TABLE access_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        grant_id uuid NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
        token_hash bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        CONSTRAINT access_tokens_token_hash_key UNIQUE (token_hash)
      )`);
    await q.query(`CREATE INDEX access_tokens_grant_id_idx ON access_tokens (grant_id)`);
    await q.query(`
      CREATE TABLE refresh_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        grant_id uuid NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
        token_hash bytea NOT NULL,
        access_token_id uuid REFERENCES access_tokens (id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz,
        revoked_at timestamptz,
        consumed_at timestamptz,
        successor_id uuid REFERENCES refresh_tokens (id) ON DELETE SET NULL,
        CONSTRAINT refresh_tokens_token_hash_key UNIQUE (token_hash)
      )`);
    await q.query(`CREATE INDEX refresh_tokens_grant_id_idx ON refresh_tokens (grant_id)`);
    await q.query(`
      CREATE TABLE revocation_audit (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        grant_id uuid NOT NULL,
        client_id text NOT NULL,
        subject text,
        token_type text CHECK (token_type IN ('access_token', 'refresh_token')),
        revoking_client_id text,
        reason text NOT NULL,
        revoked_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX revocation_audit_grant_id_idx ON revocation_audit (grant_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE revocation_audit`);
    await q.query(`DROP TABLE refresh_tokens`);
    await q.query(`DROP TABLE access_tokens`);
    await q.query(`DROP TABLE grants`);
    await q.query(`DROP TABLE clients`);
  }
}
