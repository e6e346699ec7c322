import 'reflect-metadata';
import { createServer, Server as HttpServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import type { AppConfig } from './config/app-config';
import { ConfigError } from './config/environment';
import { openDatabase, OpenedDatabase } from '../database/database-connection';
import { issuerRouting } from '../discovery/issuer-routing';
import { closeIfBodyUnread } from '../http/unread-body';
import { UnknownRouteFilter } from './unknown-route.filter';
import { RevocationDirectRoute } from '../revocation/revocation-direct-route';

/**
 * Requests Node's HTTP parser rejects (unknown methods, broken framing, headers over its 16 KiB limit)
 * never reach Nest; answer them with an RFC 6749-shaped error instead of a bare status line. A request
 * that did not arrive in time (headersTimeout, requestTimeout) is answered 408 (RFC 9110 §15.5.9).
 */
function answerMalformedRequests(server: HttpServer): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // Nothing can be answered on a connection that is gone or whose answer has begun.
    const answering = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
    if (err.code === 'ECONNRESET' || !socket.writable || answering) return void socket.destroy();
    const [status, description] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? ['431 Request Header Fields Too Large', 'The request headers are too large.']
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? ['408 Request Timeout', 'The request did not arrive in time; send it again, whole.']
          : ['400 Bad Request', 'The request is not well-formed HTTP.'];
    const body = JSON.stringify({ error: 'invalid_request', error_description: description });
    socket.end(
      `HTTP/1.1 ${status}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Cache-Control: no-store\r\nPragma: no-cache\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}

/**
 * Bounds on how long a request may take to arrive (Node's defaults: 60 s for the headers, 300 s for the
 * whole request, checked every 30 s). The check interval follows the headers timeout so that a timeout is
 * answered near its time.
 */
function applyTimeouts(server: HttpServer, http: AppConfig['http']): void {
  server.headersTimeout = http.headersTimeoutMs;
  server.requestTimeout = http.requestTimeoutMs;
  (server as HttpServer & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.min(1000, Math.max(50, Math.floor(http.headersTimeoutMs / 4)));
}

export interface RunningServer {
  app: INestApplication;
  db: OpenedDatabase;
  /** The address the server listens on, e.g. `http://127.0.0.1:3000`. */
  url: string;
  close(): Promise<void>;
}

function portInUse(config: AppConfig): ConfigError {
  return new ConfigError(`Port ${config.port} on ${config.host} is already in use (PORT, HOST): stop the process that has it, or set PORT to a free port`);
}

/**
 * Checked before anything starts: found by app.listen, a taken port shows up after Nest has logged a
 * successful start, as its error log and a stack trace.
 */
function checkPortFree(config: AppConfig): Promise<void> {
  if (config.port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? portInUse(config) : err));
    probe.listen(config.port, config.host, () => probe.close(() => resolve()));
  });
}

/** Builds the host app on its database (opening the embedded one if needed) and starts listening. */
export async function startServer(config: AppConfig): Promise<RunningServer> {
  await checkPortFree(config);
  const db = await openDatabase(config.database, 'server');
  let app: NestExpressApplication | undefined;
  try {
    app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, db), {
      logger: config.logLevels,
      abortOnError: false,
      // The OAuth endpoints read their own bodies (exact duplicate detection, 16 KiB limit) and
      // the host's other routes take no bodies.
      bodyParser: false,
    });
    app.set('trust proxy', config.trustProxy);
    app.disable('x-powered-by');
    answerMalformedRequests(app.getHttpServer());
    applyTimeouts(app.getHttpServer(), config.http);
    // Every route of the host, /health and discovery included: an answer sent before the body was read
    // closes the connection instead of draining an endless body.
    app.use((req: IncomingMessage, res: ServerResponse, next: () => void) => {
      closeIfBodyUnread(req, res);
      next();
    });
    app.useGlobalFilters(new UnknownRouteFilter(app.getHttpAdapter()));
    // Endpoint URLs are <issuer>/<route> (RFC 8414 §2): an issuer with a path serves every route under
    // that path, but the discovery routes RFC 8414 §3.1 puts at the root, and /health, which probes
    // call on the bare address whatever the issuer.
    const routing = issuerRouting(config.issuer);
    if (routing) app.setGlobalPrefix(routing.prefix, { exclude: [...routing.exclude, 'health'] });
    await app.init();
    // The revoke path, the product, ahead of Express's router (see RevocationDirectRoute).
    app.get(RevocationDirectRoute).install();
    await app.listen(config.port, config.host);
  } catch (err) {
    await app?.close().catch(() => undefined);
    await db.embedded?.stop().catch(() => undefined);
    // Taken between the check and now: the same one line.
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw portInUse(config);
    throw err;
  }
  const address = app.getHttpServer().address() as { port: number };
  const started = app;
  let closing: Promise<void> | undefined;
  return {
    app: started,
    db,
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      (closing ??= (async () => {
        await started.close();
        await db.embedded?.stop();
      })()),
  };
}
