import { Logger } from '@nestjs/common';
import { loadConfig } from './config/app-config';
import { hostEnvironment } from './config/dotenv';
import { ConfigError } from './config/environment';
import { DatabaseStartupError } from '../database/database-errors';
import { startServer } from './server';

async function main(): Promise<void> {
  const config = loadConfig(hostEnvironment());
  const server = await startServer(config);
  const where = config.database.url ? 'PostgreSQL (DATABASE_URL)' : `the embedded database in ${config.database.embeddedDataDir}`;
  new Logger('Main').log(`Authorization server ${config.issuer} listening on port ${config.port}, using ${where}`);
  // On SIGTERM/SIGINT: stop accepting, let in-flight requests finish, flush the embedded database, exit 0.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      server.close().then(
        () => process.exit(0),
        (err: Error) => {
          process.stderr.write(`error: shutdown failed: ${err.message}\n`);
          process.exit(1);
        },
      );
    });
  }
}

main().catch((err: Error) => {
  // Known startup problems are told in one line that names the setting to change.
  const known = err instanceof ConfigError || err instanceof DatabaseStartupError;
  process.stderr.write(`error: ${known ? err.message : `startup failed: ${err.stack ?? err.message}`}\n`);
  process.exit(1);
});
