// A PostgreSQL adapter for oidc-provider, written for the benchmark: one table keyed by model name + id,
// the payload as jsonb, and columns for the lookups the provider makes besides the key (grantId for
// revokeByGrantId, userCode, uid). Every statement is a named prepared statement, as the module's hot path.
import pg from 'pg';

export const PEER_SCHEMA = `
  CREATE TABLE oidc_payloads (
    model text NOT NULL,
    id text NOT NULL,
    payload jsonb NOT NULL,
    grant_id text,
    user_code text,
    uid text,
    expires_at timestamptz,
    consumed_at timestamptz,
    PRIMARY KEY (model, id)
  );
  CREATE INDEX oidc_payloads_grant_id_idx ON oidc_payloads (grant_id);
  CREATE UNIQUE INDEX oidc_payloads_user_code_idx ON oidc_payloads (model, user_code) WHERE user_code IS NOT NULL;
  CREATE UNIQUE INDEX oidc_payloads_uid_idx ON oidc_payloads (model, uid) WHERE uid IS NOT NULL;
`;

/** Columns of a row as COPY (seeding) and upsert write them. */
export const PEER_COLUMNS = ['model', 'id', 'payload', 'grant_id', 'user_code', 'uid', 'expires_at'];

const UPSERT = `INSERT INTO oidc_payloads (model, id, payload, grant_id, user_code, uid, expires_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7)
  ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id,
    user_code = EXCLUDED.user_code, uid = EXCLUDED.uid, expires_at = EXCLUDED.expires_at, consumed_at = NULL`;
const LIVE = '(expires_at IS NULL OR expires_at > now())';

let pool;
let sink = null;

/** The pool every adapter instance uses. */
export function usePool(p) {
  pool = p;
}

export function createPool(url, max) {
  return new pg.Pool({
    connectionString: url,
    max,
    statement_timeout: 5000,
    query_timeout: 7000,
    connectionTimeoutMillis: 5000,
    application_name: 'bench-peer',
  });
}

/**
 * Seeding: while `rows` is an array, upserts are appended to it (as PEER_COLUMNS values) instead of being
 * written, so that the seeder can bulk-load what the provider's own models produced. null: write again.
 */
export function bufferUpserts(rows) {
  sink = rows;
}

function row(model, id, payload, expiresIn) {
  return [
    model,
    id,
    payload,
    payload.grantId ?? null,
    payload.userCode ?? null,
    payload.uid ?? null,
    expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
  ];
}

function withConsumed(r) {
  if (!r) return undefined;
  return r.consumed_at ? { ...r.payload, consumed: Math.floor(r.consumed_at.getTime() / 1000) } : r.payload;
}

export class PgAdapter {
  constructor(model) {
    this.model = model;
  }

  async upsert(id, payload, expiresIn) {
    const values = row(this.model, id, payload, expiresIn);
    if (sink) {
      sink.push(values);
      return;
    }
    await pool.query({ name: 'oidc_upsert', text: UPSERT, values });
  }

  /** The live payload of this model whose `column` (id, user_code or uid) is `value`. */
  async findBy(column, value) {
    const { rows } = await pool.query({
      name: `oidc_find_by_${column}`,
      text: `SELECT payload, consumed_at FROM oidc_payloads WHERE model = $1 AND ${column} = $2 AND ${LIVE}`,
      values: [this.model, value],
    });
    return withConsumed(rows[0]);
  }

  find(id) {
    return this.findBy('id', id);
  }

  findByUserCode(userCode) {
    return this.findBy('user_code', userCode);
  }

  findByUid(uid) {
    return this.findBy('uid', uid);
  }

  async consume(id) {
    await pool.query({
      name: 'oidc_consume',
      text: 'UPDATE oidc_payloads SET consumed_at = now() WHERE model = $1 AND id = $2',
      values: [this.model, id],
    });
  }

  async destroy(id) {
    await pool.query({ name: 'oidc_destroy', text: 'DELETE FROM oidc_payloads WHERE model = $1 AND id = $2', values: [this.model, id] });
  }

  async revokeByGrantId(grantId) {
    await pool.query({
      name: 'oidc_revoke_by_grant_id',
      text: 'DELETE FROM oidc_payloads WHERE model = $1 AND grant_id = $2',
      values: [this.model, grantId],
    });
  }
}
