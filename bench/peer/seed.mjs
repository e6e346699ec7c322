// Seeds the peer: N grants, each with an access token and a refresh token, minted through oidc-provider's
// own models (Grant, AccessToken, RefreshToken and their save()), then bulk-loaded with COPY: the adapter
// buffers the rows that save() hands it instead of writing them one by one.
//
// node bench/peer/seed.mjs <database url> <grants> <kept> <client secret> <tokens out file> [append]
// With `append`, the grants are added to a table seeded before (a top-up between phases): the table and its
// indexes are kept, and the rows go into the indexed table.
// Prints one JSON line: {"grants":…,"kept":…,"seconds":…}. The out file gets one kept token a line, as
// "<kind> <token>": for kept grant i (spread evenly), the access token when i is even, the refresh token
// when odd, in random order.
import { writeFileSync } from 'node:fs';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { bufferUpserts, PEER_COLUMNS, PEER_SCHEMA } from './pg-adapter.mjs';
import { createProvider, PEER_CLIENT_ID } from './provider.mjs';

const [url, grantsArg, keptArg, secret, outFile, mode] = process.argv.slice(2);
const append = mode === 'append';
const grants = Number(grantsArg);
const keep = Number(keptArg);
const started = Date.now();

function csv(value) {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return `"${text.replace(/"/g, '""')}"`;
}

async function copyBuffered(client, rows) {
  const stream = client.query(copyFrom(`COPY oidc_payloads (${PEER_COLUMNS.join(', ')}) FROM STDIN WITH (FORMAT csv)`));
  const done = new Promise((resolve, reject) => {
    stream.on('finish', resolve);
    stream.on('error', reject);
  });
  stream.end(rows.map((r) => r.map(csv).join(',')).join('\n') + '\n');
  await done;
}

const provider = createProvider('http://127.0.0.1', secret);
const client = await provider.Client.find(PEER_CLIENT_ID);
const db = new pg.Client({ connectionString: url });
await db.connect();
if (!append) {
  await db.query(PEER_SCHEMA);
  // As for the module: indexes are built once after the load rather than grown row by row.
  await db.query('DROP INDEX oidc_payloads_grant_id_idx');
  await db.query('ALTER TABLE oidc_payloads DROP CONSTRAINT oidc_payloads_pkey');
}

const stride = Math.max(1, Math.floor(grants / keep));
const kept = [];
const batch = 10_000;
for (let from = 0; from < grants; from += batch) {
  const rows = [];
  bufferUpserts(rows);
  for (let i = from; i < Math.min(grants, from + batch); i++) {
    const accountId = append ? `topup-${started}-${i}` : `user-${i}`;
    const grant = new provider.Grant({ accountId, clientId: PEER_CLIENT_ID });
    grant.addOIDCScope('openid offline_access');
    const grantId = await grant.save();
    const access = await new provider.AccessToken({ accountId, client, grantId, scope: 'openid', gty: 'refresh_token' }).save();
    const refresh = await new provider.RefreshToken({ accountId, client, grantId, scope: 'openid offline_access', gty: 'refresh_token' }).save();
    if (i % stride === 0 && kept.length < keep) kept.push(kept.length % 2 === 0 ? `access_token ${access}` : `refresh_token ${refresh}`);
  }
  bufferUpserts(null);
  await copyBuffered(db, rows);
}
if (append) {
  await db.query('ANALYZE oidc_payloads');
} else {
  await db.query(`SET maintenance_work_mem = '512MB'`);
  await db.query('ALTER TABLE oidc_payloads ADD PRIMARY KEY (model, id)');
  await db.query('CREATE INDEX oidc_payloads_grant_id_idx ON oidc_payloads (grant_id)');
  await db.query('VACUUM (ANALYZE) oidc_payloads');
}
await db.end();

for (let i = kept.length - 1; i > 0; i--) {
  const j = Math.floor(Math.random() * (i + 1));
  [kept[i], kept[j]] = [kept[j], kept[i]];
}
writeFileSync(outFile, kept.join('\n') + '\n');
process.stdout.write(JSON.stringify({ grants, kept: kept.length, seconds: (Date.now() - started) / 1000 }) + '\n');
