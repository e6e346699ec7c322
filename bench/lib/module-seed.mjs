// Seeds a module database: schema by the module's own migrations, the client by its admin CLI, then N
// grants with one access and one refresh token each, bulk-loaded with COPY.
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import path from 'node:path';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { withClient } from './databases.mjs';
import { runNode } from './processes.mjs';

const require = createRequire(import.meta.url);

/** The package's own token functions, from the build (dist/). */
export function tokenFormat(root) {
  return require(path.join(root, 'dist/src/grants/token-format.js'));
}

export const MODULE_TABLES = ['clients', 'grants', 'access_tokens', 'refresh_tokens', 'revocation_audit'];

/** Runs the module's migrations (TypeORM CLI on the build's data source) and creates a confidential client. */
export async function prepareModuleDatabase(root, url, clientId) {
  const env = { DATABASE_URL: url, LOG_LEVEL: 'warn' };
  await runNode(root, [path.join(root, 'node_modules/typeorm/cli.js'), 'migration:run', '-d', 'dist/src/host/data-source.js'], env);
  const out = await runNode(root, ['dist/src/host/cli/admin.js', 'client:create', '--id', clientId, '--auth-method', 'client_secret_basic', '--name', 'bench'], env);
  // BENCH_NOTIFY_TRIGGERS=0: an experiment, not the product: the invalidation and outbox notifications off, to
  // measure what they cost every server on the database (the caches are then never evicted: no correctness).
  if (process.env.BENCH_NOTIFY_TRIGGERS === '0') {
    await withClient(url, (c) =>
      c.query(`ALTER TABLE grants DISABLE TRIGGER grants_revoked_notify;
               ALTER TABLE access_tokens DISABLE TRIGGER access_tokens_revoked_notify;
               ALTER TABLE revocation_audit DISABLE TRIGGER revocation_audit_notify`),
    );
  }
  const created = JSON.parse(out);
  if (!created.client_secret) throw new Error(`client:create printed no secret: ${out}`);
  return created.client_secret;
}

/** Streams `chunks` (strings) into one COPY statement, honouring backpressure. */
export async function copyRows(client, sql, chunks) {
  const stream = client.query(copyFrom(sql));
  const done = new Promise((resolve, reject) => {
    stream.on('finish', resolve);
    stream.on('error', reject);
  });
  for (const chunk of chunks) {
    if (!stream.write(chunk)) await Promise.race([once(stream, 'drain'), done]);
  }
  stream.end();
  await done;
}

/**
 * Bulk loads into freshly migrated tables: their keys, indexes and foreign keys are dropped first and put
 * back afterwards from their own catalog definitions (same names, same definitions), since building an
 * index once is far cheaper than growing it by millions of random keys, and re-adding a foreign key
 * checks every row in one join instead of one trigger call per row.
 */
export async function withoutIndexes(client, tables, load) {
  const { rows: foreignKeys } = await client.query(
    `SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
     WHERE contype = 'f' AND (conrelid::regclass::text = ANY ($1) OR confrelid::regclass::text = ANY ($1))`,
    [tables],
  );
  const { rows: keys } = await client.query(
    `SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
     WHERE contype IN ('p', 'u') AND conrelid::regclass::text = ANY ($1)`,
    [tables],
  );
  const { rows: indexes } = await client.query(
    `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i
     WHERE i.indrelid::regclass::text = ANY ($1)
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x'))`,
    [tables],
  );
  for (const fk of foreignKeys) await client.query(`ALTER TABLE ${fk.tbl} DROP CONSTRAINT "${fk.conname}"`);
  for (const key of keys) await client.query(`ALTER TABLE ${key.tbl} DROP CONSTRAINT "${key.conname}"`);
  for (const index of indexes) await client.query(`DROP INDEX ${index.name}`);
  const result = await load();
  await client.query(`SET maintenance_work_mem = '512MB'`);
  for (const key of keys) await client.query(`ALTER TABLE ${key.tbl} ADD CONSTRAINT "${key.conname}" ${key.def}`);
  for (const index of indexes) await client.query(index.def);
  for (const fk of foreignKeys) await client.query(`ALTER TABLE ${fk.tbl} ADD CONSTRAINT "${fk.conname}" ${fk.def}`);
  return result;
}

function shuffle(list) {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [list[i], list[j]] = [list[j], list[i]];
  }
  return list;
}

/**
 * Inserts `grants` grants of `clientId`, each with a live access token (1 day) and refresh token (30 days).
 * `keep` of them, spread evenly over the table, get real tokens minted with the package's generateToken
 * (prefix, base62 body, CRC32) and stored as its hashToken digest; one token of each kept grant is
 * returned, alternately the access and the refresh token, in random order. Every other token is never
 * presented by a request, so it is stored as 32 random bytes: a SHA-256 digest of a token nobody holds
 * looks exactly like that, and skipping the minting makes a million grants several times faster to seed.
 */
export async function seedModuleGrants(root, url, { clientId, grants, keep, batch = 25_000, log = () => {} }) {
  const { generateToken, hashToken } = tokenFormat(root);
  const stride = Math.max(1, Math.floor(grants / keep));
  const kept = [];
  const accessExpiry = new Date(Date.now() + 86_400_000).toISOString();
  const refreshExpiry = new Date(Date.now() + 30 * 86_400_000).toISOString();
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

  const loadBatches = async (client) => {
    for (let from = 0; from < grants; from += batch) {
      const to = Math.min(grants, from + batch);
      const random = randomBytes((to - from) * 64);
      let g = '';
      let a = '';
      let r = '';
      for (let i = from; i < to; i++) {
        const grantId = randomUUID();
        const accessId = randomUUID();
        let accessHash;
        let refreshHash;
        if (i % stride === 0 && kept.length < keep) {
          const access = generateToken('oat_');
          const refresh = generateToken('ort_');
          kept.push(kept.length % 2 === 0 ? access : refresh);
          accessHash = hashToken(access).toString('hex');
          refreshHash = hashToken(refresh).toString('hex');
        } else {
          const o = (i - from) * 64;
          accessHash = random.toString('hex', o, o + 32);
          refreshHash = random.toString('hex', o + 32, o + 64);
        }
        g += `${grantId}\t${clientId}\tuser-${i}\topenid offline_access\n`;
        a += `${accessId}\t${grantId}\t\\\\x${accessHash}\t${accessExpiry}\n`;
        r += `${randomUUID()}\t${grantId}\t\\\\x${refreshHash}\t${accessId}\t${refreshExpiry}\n`;
      }
      await copyRows(client, 'COPY grants (id, client_id, subject, scope) FROM STDIN', [g]);
      await copyRows(client, 'COPY access_tokens (id, grant_id, token_hash, expires_at) FROM STDIN', [a]);
      await copyRows(client, 'COPY refresh_tokens (id, grant_id, token_hash, access_token_id, expires_at) FROM STDIN', [r]);
      if (to % 250_000 === 0 || to === grants) log(`  ${to.toLocaleString('en')} grants loaded (${elapsed()})`);
    }
  };

  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await withoutIndexes(client, ['grants', 'access_tokens', 'refresh_tokens'], () => loadBatches(client));
    await client.query(`VACUUM (ANALYZE) ${MODULE_TABLES.join(', ')}`);
    await client.query('CHECKPOINT');
    log(`  keys, indexes, foreign keys rebuilt, vacuumed (${elapsed()})`);
  } finally {
    await client.end().catch(() => undefined);
  }
  return shuffle(kept);
}

/**
 * More grants of `clientId` in a database that is already seeded and indexed (a top-up between phases,
 * when a phase needs more unused tokens than are left): `grants` grants, each with a live access and
 * refresh token minted like seedModuleGrants' kept ones, loaded with COPY into the indexed tables, then
 * analysed. Resolves with both tokens of every new grant, in random order: [{ access, refresh }].
 */
export async function addModuleGrants(root, url, { clientId, grants, batch = 25_000 }) {
  const { generateToken, hashToken } = tokenFormat(root);
  const accessExpiry = new Date(Date.now() + 86_400_000).toISOString();
  const refreshExpiry = new Date(Date.now() + 30 * 86_400_000).toISOString();
  const pairs = [];
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (let from = 0; from < grants; from += batch) {
      const to = Math.min(grants, from + batch);
      let g = '';
      let a = '';
      let r = '';
      for (let i = from; i < to; i++) {
        const grantId = randomUUID();
        const accessId = randomUUID();
        const access = generateToken('oat_');
        const refresh = generateToken('ort_');
        pairs.push({ access, refresh });
        g += `${grantId}\t${clientId}\ttopup-${grantId}\topenid offline_access\n`;
        a += `${accessId}\t${grantId}\t\\\\x${hashToken(access).toString('hex')}\t${accessExpiry}\n`;
        r += `${randomUUID()}\t${grantId}\t\\\\x${hashToken(refresh).toString('hex')}\t${accessId}\t${refreshExpiry}\n`;
      }
      await copyRows(client, 'COPY grants (id, client_id, subject, scope) FROM STDIN', [g]);
      await copyRows(client, 'COPY access_tokens (id, grant_id, token_hash, expires_at) FROM STDIN', [a]);
      await copyRows(client, 'COPY refresh_tokens (id, grant_id, token_hash, access_token_id, expires_at) FROM STDIN', [r]);
    }
    await client.query('ANALYZE grants, access_tokens, refresh_tokens');
  } finally {
    await client.end().catch(() => undefined);
  }
  return shuffle(pairs);
}
