// The floor: the least a server can do for an authenticated RFC 7009 revocation on this schema, with no
// framework. Bare node:http + pg, the module's own pure functions for the per-request crypto (token
// prefix/CRC32 check, SHA-256 token digest, constant-time secret check), and the same two statements as the
// module, as named prepared statements: the client lookup of src/clients/clients.service.ts and
// oauth_revoke_token of src/revocation/revocation.service.ts, on sessions set up as the module's are, then
// the same announcement after the commit (batched the same way: one statement in flight, those that wait
// go together in the next): the same database work, so the ratio is what the framework costs. Only what the bench sends is supported:
// POST <path> with a form body, Basic or no client authentication. Not a server to deploy.
//
// Environment: DATABASE_URL, PORT, HOST (127.0.0.1), DATABASE_POOL_SIZE (10), REVOCATION_PATH (/oauth2/revoke).
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);
const { hashToken, parseTokenKind } = require(path.join(root, 'dist/src/grants/token-format.js'));
const { verifyClientSecret } = require(path.join(root, 'dist/src/clients/client-secret.js'));
const { ANNOUNCE_AFTER_COMMIT_OPTION } = require(path.join(root, 'dist/src/database/invalidation-listener.js'));

const revokePath = '/' + (process.env.REVOCATION_PATH ?? 'oauth2/revoke').replace(/^\/+/, '');
const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DATABASE_POOL_SIZE ?? 10),
  // The module's pool settings (src/database/database-connection.ts), so both pay the same.
  statement_timeout: 5000,
  query_timeout: 7000,
  connectionTimeoutMillis: 5000,
  application_name: 'bench-floor',
  // The module's sessions (src/host/data-source-options.ts): the revocation notifies nobody inside its
  // transaction; it is announced after the commit, below.
  options: ANNOUNCE_AFTER_COMMIT_OPTION,
});

const FIND_CLIENT = {
  name: 'oauth_find_client_credentials',
  text: `SELECT client_id, token_endpoint_auth_method, secret_hash, grant_types, disabled_at IS NOT NULL AS disabled
   FROM clients WHERE client_id = $1`,
};
const REVOKE_TOKEN = {
  name: 'oauth_revoke_token',
  text: 'SELECT outcome, grant_id, client_id, subject, scope FROM oauth_revoke_token($1, $2, $3, $4)',
};

const ANNOUNCE = "SELECT pg_notify('oauth_invalidate', p) FROM unnest($1::text[]) p";
let queued = [];
let sending;
let nextBatch;
/** As InvalidationListener.announce, without its deadline and logging. */
function announce(grantId) {
  queued.push(`g:${grantId}`);
  nextBatch ??= (sending ?? Promise.resolve()).then(() => {
    nextBatch = undefined;
    const batch = queued;
    queued = [];
    sending = pool.query(ANNOUNCE, [batch]).then(
      () => undefined,
      () => undefined,
    );
    return sending;
  });
  return nextBatch;
}

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };
const OK = { ...NO_STORE, 'content-length': '0' };
const INVALID_CLIENT = JSON.stringify({ error: 'invalid_client', error_description: 'Client authentication failed.' });
const INVALID_REQUEST = JSON.stringify({ error: 'invalid_request', error_description: 'Bad revocation request.' });

function answer(res, status, body) {
  if (body === undefined) {
    res.writeHead(status, OK);
    res.end();
  } else {
    res.writeHead(status, { ...NO_STORE, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }
}

/** The client id of a valid Basic header, after the same checks as the module's guard; null: reject. */
async function authenticate(header) {
  if (!header.startsWith('Basic ')) return null;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  let id;
  let secret;
  try {
    id = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
    secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
  } catch {
    return null;
  }
  const { rows } = await pool.query({ ...FIND_CLIENT, values: [id] });
  const client = rows[0];
  if (!client || client.disabled || client.token_endpoint_auth_method === 'none') return null;
  return verifyClientSecret(secret, client.secret_hash) ? client.client_id : null;
}

async function handle(req, res, body) {
  let token;
  for (const [name, value] of new URLSearchParams(body)) if (name === 'token') token = value;
  if (!token) return answer(res, 400, INVALID_REQUEST);
  let clientId = null;
  if (req.headers.authorization !== undefined) {
    clientId = await authenticate(req.headers.authorization);
    if (clientId === null) return answer(res, 401, INVALID_CLIENT);
  }
  const kind = parseTokenKind(token);
  if (kind) {
    const { rows } = await pool.query({ ...REVOKE_TOKEN, values: [hashToken(token), kind, clientId, 'revoke'] });
    if (rows[0].outcome === 'foreign_reject') return answer(res, 401, INVALID_CLIENT);
    if (rows[0].outcome === 'revoked') await announce(rows[0].grant_id);
  }
  answer(res, 200);
}

const server = http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== revokePath) {
    // Anything else, including the bench's readiness probe.
    req.resume();
    return answer(res, 404, INVALID_REQUEST);
  }
  if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    req.resume();
    return answer(res, 400, INVALID_REQUEST);
  }
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => {
    body += chunk;
    if (body.length > 16 * 1024) req.destroy();
  });
  req.on('end', () => {
    handle(req, res, body).catch(() => {
      res.writeHead(503, { ...NO_STORE, 'retry-after': '5', 'content-length': '0' });
      res.end();
    });
  });
});
server.keepAliveTimeout = 65_000;

server.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1');
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => server.close(() => pool.end().then(() => process.exit(0))));
}
