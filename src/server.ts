import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import type { AppConfig } from './config/app-config';
import { openDatabase, OpenedDatabase } from './database/database-connection';
import { issuerRouting } from './discovery/issuer-routing';

export interface RunningServer {
  app: INestApplication;
  db: OpenedDatabase;
  /** The address the server listens on, e.g. `http://127.0.0.1:3000`. */
  url: string;
  close(): Promise<void>;
}

/** Builds the host app on its database (opening the embedded one if needed) and starts listening. */
export async function startServer(config: AppConfig): Promise<RunningServer> {
  const db = await openDatabase(config.database, 'server');
  let app: NestExpressApplication | undefined;
  try {
    app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, db), {
      logger: config.logLevels,
      abortOnError: false,
    });
    app.set('trust proxy', false);
    app.disable('x-powered-by');
    // Endpoint URLs are <issuer>/<route> (RFC 8414 §2): an issuer with a path serves every route under
    // that path, but the discovery routes RFC 8414 §3.1 puts at the root, and /health, which probes
    // call on the bare address whatever the issuer.
    const routing = issuerRouting(config.issuer);
    if (routing) app.setGlobalPrefix(routing.prefix, { exclude: [...routing.exclude, 'health'] });
    await app.listen(config.port, config.host);
  } catch (err) {
    await app?.close().catch(() => undefined);
    await db.embedded?.stop().catch(() => undefined);
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
