// The peer: oidc-provider (8.x) with revocation on, on the bench's PostgreSQL adapter. Production mode
// (NODE_ENV=production from the runner), no debug logging, provider.proxy false; routes are the provider's
// own (revocation at /token/revocation).
//
// Environment: DATABASE_URL, PORT, HOST (127.0.0.1), DATABASE_POOL_SIZE (10), PEER_CLIENT_SECRET.
import http from 'node:http';
import { createPool, usePool } from './pg-adapter.mjs';
import { createProvider } from './provider.mjs';

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
const pool = createPool(process.env.DATABASE_URL, Number(process.env.DATABASE_POOL_SIZE ?? 10));
usePool(pool);
const provider = createProvider(`http://${host}:${port}`, process.env.PEER_CLIENT_SECRET);
// Failures are the bench's business (they show as non-2xx): log them once each, briefly.
provider.on('server_error', (_ctx, err) => process.stderr.write(`peer server_error: ${err.message}\n`));

const server = http.createServer(provider.callback());
server.keepAliveTimeout = 65_000;
server.listen(port, host);
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => server.close(() => pool.end().then(() => process.exit(0))));
}
