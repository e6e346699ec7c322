import 'reflect-metadata';
import { createServer, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import type { AppConfig } from './config/app-config';
import { ConfigError } from './config/environment';
import { openDatabase, OpenedDatabase } from '../database/database-connection';
import { issuerRouting } from '../discovery/issuer-routing';

/**
 * Requests Node's HTTP parser rejects (unknown methods, broken framing, headers over its 16 KiB limit)
 * never reach Nest; answer them with an RFC 6749-shaped error instead of a bare status line.
 */
function answerMalformedRequests(server: HttpServer): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const body = JSON.stringify({
      error: 'invalid_request',
      error_description: tooLarge ? 'The request headers are too large.' : 'The request is not well-formed HTTP.',
    });
    socket.end(
      `HTTP/1.1 ${tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request'}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Cache-Control: no-store\r\nPragma: no-cache\r\nConnection: close\r\n\r\n${body}`,
    );
  });
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
    // Endpoint URLs are <issuer>/<route> (RFC 8414 §2): an issuer with a path serves every route under
    // that path, but the discovery routes RFC 8414 §3.1 puts at the root, and /health, which probes
    // call on the bare address whatever the issuer.
    const routing = issuerRouting(config.issuer);
    if (routing) app.setGlobalPrefix(routing.prefix, { exclude: [...routing.exclude, 'health'] });
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
