#!/usr/bin/env node
import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientInputError, ClientsService } from '../../clients/clients.service';
import { GRANT_TYPES, GrantType, TOKEN_ENDPOINT_AUTH_METHODS, TokenEndpointAuthMethod } from '../../clients/client.entity';
import { loadConfig } from '../config/app-config';
import { hostEnvironment } from '../config/dotenv';
import { ConfigError } from '../config/environment';
import { openDatabase, OpenedDatabase } from '../../database/database-connection';
import { DatabaseStartupError } from '../../database/database-errors';
import type { DatabaseSettings } from '../../database/database-settings.interface';
import { MEMORY_DATA_DIR, readLock } from '../../database/embedded-database';
import { parseScope } from '../../grants/scope';
import { RegisteredClientCleanupService } from '../../registration/registered-client-cleanup.service';
import { RevocationService } from '../../revocation/revocation.service';
import { TokenCleanupService } from '../../grants/token-cleanup.service';
import { TokenIssueError, TokensService } from '../../grants/tokens.service';
import { AppModule } from '../app.module';
import { disableAndRevoke } from '../../account/account.service';
import { UserInputError, UsersService } from '../../login/users.service';

/** A mistake in what the operator typed: told on stderr, exit code 2. */
class UsageError extends Error {}

interface Services {
  clients: ClientsService;
  tokens: TokensService;
  revocation: RevocationService;
  cleanup: TokenCleanupService;
  /** Null when registration is off (REGISTRATION_ENABLED=false). */
  registeredClients: RegisteredClientCleanupService | null;
  users: UsersService;
}

type Flags = Record<string, string | undefined>;
interface Command {
  flags: string[];
  required: string[];
  run(services: Services, flags: Flags): Promise<object>;
  /** Read before the application starts: a secret that must never be in argv (ps, shell history). */
  stdin?: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const COMMANDS: Record<string, Command> = {
  'client:create': {
    flags: ['id', 'auth-method', 'grant-types', 'name', 'redirect-uris'],
    required: ['id', 'auth-method'],
    async run({ clients }, f) {
      const method = f['auth-method'] as TokenEndpointAuthMethod;
      if (!TOKEN_ENDPOINT_AUTH_METHODS.includes(method)) {
        throw new UsageError(`--auth-method must be one of ${TOKEN_ENDPOINT_AUTH_METHODS.join(', ')}`);
      }
      let grantTypes: GrantType[] | undefined;
      if (f['grant-types'] !== undefined) {
        grantTypes = f['grant-types'].split(',').map((g) => g.trim()).filter(Boolean) as GrantType[];
        const unknown = grantTypes.filter((g) => !GRANT_TYPES.includes(g));
        if (grantTypes.length === 0 || unknown.length > 0) {
          throw new UsageError(`--grant-types takes a comma list of ${GRANT_TYPES.join(', ')}`);
        }
      }
      const redirectUris = f['redirect-uris']?.split(',').map((u) => u.trim()).filter(Boolean);
      return clients.create({ clientId: f.id!, authMethod: method, grantTypes, name: f.name, redirectUris });
    },
  },
  'client:list': {
    flags: [],
    required: [],
    async run({ clients }) {
      const list = await clients.list();
      return {
        clients: list.map((c) => ({
          client_id: c.clientId,
          name: c.name,
          token_endpoint_auth_method: c.tokenEndpointAuthMethod,
          grant_types: c.grantTypes,
          created_at: c.createdAt.toISOString(),
          disabled_at: c.disabledAt?.toISOString() ?? null,
        })),
      };
    },
  },
  'token:issue': {
    flags: ['client', 'subject', 'scope', 'access-ttl'],
    required: ['client'],
    async run({ tokens }, f) {
      let accessTtlSeconds: number | undefined;
      if (f['access-ttl'] !== undefined) {
        if (!/^\d+$/.test(f['access-ttl']) || Number(f['access-ttl']) <= 0) {
          throw new UsageError('--access-ttl must be a positive whole number of seconds');
        }
        accessTtlSeconds = Number(f['access-ttl']);
      }
      return tokens.issueGrant({ clientId: f.client!, subject: f.subject ?? null, scope: f.scope ?? '', accessTtlSeconds });
    },
  },
  'client:disable': {
    flags: ['id'],
    required: ['id'],
    async run({ clients }, f) {
      return { client_id: f.id!, disabled: await clients.disable(f.id!) };
    },
  },
  'client:rotate-secret': {
    flags: ['id'],
    required: ['id'],
    async run({ clients }, f) {
      const secret = await clients.rotateSecret(f.id!);
      if (secret === null) throw new ClientInputError(`no confidential client with id ${JSON.stringify(f.id)}`);
      return { client_id: f.id!, client_secret: secret };
    },
  },
  'client:delete': {
    flags: ['id'],
    required: ['id'],
    async run({ clients }, f) {
      return { client_id: f.id!, deleted: await clients.delete(f.id!) };
    },
  },
  'grant:revoke': {
    flags: ['grant'],
    required: ['grant'],
    async run({ revocation }, f) {
      if (!UUID.test(f.grant!)) throw new UsageError('--grant must be a grant id (a UUID, as token:issue prints it)');
      const revoked = await revocation.revokeGrant(f.grant!.toLowerCase(), 'admin');
      return { grant_id: f.grant!.toLowerCase(), revoked };
    },
  },
  'user:create': {
    flags: ['username'],
    required: ['username'],
    stdin: true,
    async run({ users }, f) {
      const user = await users.create(f.username!, f.stdin!);
      return { subject: user.id, username: user.username };
    },
  },
  'user:disable': {
    flags: ['username'],
    required: ['username'],
    async run({ users, revocation }, f) {
      // One transaction: the user, their browser sessions and every live grant (audit row each; the
      // events once it has committed), as the account page's deactivation.
      const disabled = await disableAndRevoke(revocation, (revoke) => users.disable(f.username!, revoke), 'user_disabled');
      if (!disabled) throw new UserInputError(`There is no user ${JSON.stringify(f.username)}.`);
      return { subject: disabled.id, username: disabled.username, disabled: true, revoked_grants: disabled.revokedGrants, ended_sessions: disabled.endedBrowserSessions };
    },
  },
  'tokens:cleanup': {
    flags: [],
    required: [],
    // Retention and batch size come from TOKEN_RETENTION_DAYS and TOKEN_CLEANUP_BATCH_SIZE, as in the app;
    // unused registered clients go after REGISTRATION_UNUSED_CLIENT_DAYS without a live grant.
    async run({ cleanup, registeredClients }) {
      const tokens = await cleanup.cleanup();
      return { ...tokens, ...(registeredClients ? await registeredClients.cleanup() : {}) };
    },
  },
};

const USAGE = `usage: nestjs-oauth2-revocation <command> [flags]     (in this repository: npm run --silent admin -- <command> [flags])
  client:create --id <client_id> --auth-method <client_secret_basic|client_secret_post|none> [--grant-types <list>] [--name <text>] [--redirect-uris <list>]
  client:list
  client:disable --id <client_id>
  client:rotate-secret --id <client_id>     (prints the new secret once)
  client:delete --id <client_id>            (with its grants and tokens; audit rows stay)
  token:issue --client <client_id> [--subject <sub>] [--scope <space separated>] [--access-ttl <seconds>]
  grant:revoke --grant <grant_id>
  user:create --username <name>        (the password is read from standard input)
  user:disable --username <name>
  tokens:cleanup
  help                             this text (also --help)
Every command also takes:
  --database-url <postgres://…>    the PostgreSQL database (default: $DATABASE_URL, read from the environment or .env)
  --create-embedded                with no database configured, create the embedded database in $EMBEDDED_DATA_DIR
                                   (default .data/pglite) instead of refusing
Prints one JSON object on stdout; errors go to stderr (exit 2 for a usage mistake, 1 otherwise).`;

/** Flags every command takes: where the database is. */
export interface DatabaseFlags {
  databaseUrl?: string;
  createEmbedded: boolean;
}

type Parsed = { help: true } | { help: false; command: Command; flags: Flags; database: DatabaseFlags };

const GLOBAL_OPTIONS = { 'database-url': { type: 'string' }, 'create-embedded': { type: 'boolean' }, help: { type: 'boolean' } } as const;

export function parse(argv: string[]): Parsed {
  const [name, ...rest] = argv;
  if (name === 'help' || name === '--help' || name === '-h') return { help: true };
  const command = name ? COMMANDS[name] : undefined;
  if (!command) throw new UsageError(name ? `unknown command ${JSON.stringify(name)}\n${USAGE}` : USAGE);
  let values: Flags & { 'create-embedded'?: boolean; help?: boolean };
  try {
    const options = { ...Object.fromEntries(command.flags.map((f) => [f, { type: 'string' as const }])), ...GLOBAL_OPTIONS };
    values = parseArgs({ args: rest, options, strict: true, allowPositionals: false }).values as typeof values;
  } catch (err) {
    throw new UsageError(`${name}: ${(err as Error).message}`);
  }
  if (values.help) return { help: true };
  for (const flag of command.required) {
    if (!values[flag]) throw new UsageError(`${name}: --${flag} is required`);
  }
  // RFC 6749 §3.3, the rule the token endpoint applies: refused here as a usage mistake, before any database work.
  if (values.scope !== undefined && values.scope !== '' && !parseScope(values.scope)) {
    throw new UsageError(`${name}: --scope must be scope tokens separated by single spaces, each of printable ASCII characters other than space, " and \\ (RFC 6749 §3.3)`);
  }
  const { 'database-url': databaseUrl, 'create-embedded': createEmbedded, help: _help, ...flags } = values;
  return { help: false, command, flags, database: { databaseUrl, createEmbedded: createEmbedded === true } };
}

/** The environment the configuration is read from, with --database-url taking the place of DATABASE_URL. */
export function environmentWith(env: NodeJS.ProcessEnv, database: DatabaseFlags): NodeJS.ProcessEnv {
  return database.databaseUrl === undefined ? env : { ...env, DATABASE_URL: database.databaseUrl };
}

/** No database to work on: told on stderr, exit code 1. */
class NoDatabaseError extends Error {}

/**
 * Run from a host app's directory with nothing configured, the CLI would silently create an empty
 * embedded database there and answer from it: refuse unless asked, naming what to set.
 */
export function checkDatabaseConfigured(settings: DatabaseSettings, database: DatabaseFlags): void {
  if (settings.url || database.createEmbedded || settings.embeddedDataDir === MEMORY_DATA_DIR) return;
  if (existsSync(settings.embeddedDataDir) || readLock(settings.embeddedDataDir)) return;
  throw new NoDatabaseError(
    `no database configured: DATABASE_URL is not set (nor --database-url), and there is no embedded database in ${settings.embeddedDataDir} (EMBEDDED_DATA_DIR); set DATABASE_URL, start the server once, or pass --create-embedded to create an empty embedded database there`,
  );
}

/**
 * The password for user:create, from standard input: everything up to the first line break (a piped
 * `printf '%s\n'`, or a line typed at a terminal, which echoes it: pipe it from a password manager instead).
 */
async function readPassword(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Password (input is visible; end with Enter): ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    if (process.stdin.isTTY && chunk.includes(10)) break;
    if (Buffer.concat(chunks).length > 16 * 1024) break;
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const line = text.split(/\r?\n/, 1)[0];
  if (!line) throw new UsageError('user:create reads the password from standard input, e.g. printf \'%s\\n\' "$PASSWORD" | npm run --silent admin -- user:create --username alice');
  return line;
}

/**
 * The services of the same application the server runs (AppModule, same configuration), without HTTP:
 * options, services and RevocationEvents listeners are the very objects the server would use.
 */
async function openServices(db: OpenedDatabase, config: ReturnType<typeof loadConfig>): Promise<{ app: INestApplicationContext; services: Services }> {
  // A one-shot command caches nothing: no listening connection (its writes still notify the servers).
  const app = await NestFactory.createApplicationContext(AppModule.forRoot({ ...config, cache: { ...config.cache, ttlSeconds: 0 } }, db), {
    logger: ['error'],
    abortOnError: false,
  });
  return {
    app,
    services: {
      clients: app.get(ClientsService),
      tokens: app.get(TokensService),
      revocation: app.get(RevocationService),
      cleanup: app.get(TokenCleanupService),
      registeredClients: config.registration ? app.get(RegisteredClientCleanupService) : null,
      users: app.get(UsersService),
    },
  };
}

export async function main(argv: string[]): Promise<number> {
  let app: INestApplicationContext | undefined;
  let stopEmbedded: (() => Promise<void>) | undefined;
  try {
    const parsed = parse(argv);
    if (parsed.help) {
      process.stdout.write(USAGE + '\n');
      return 0;
    }
    const { command, flags, database } = parsed;
    if (command.stdin) flags.stdin = await readPassword();
    const config = loadConfig(environmentWith(hostEnvironment(), database));
    checkDatabaseConfigured(config.database, database);
    const db = await openDatabase(config.database, 'tool');
    stopEmbedded = db.embedded && (() => db.embedded!.stop());
    const opened = await openServices(db, config);
    app = opened.app;
    const result = await command.run(opened.services, flags);
    process.stdout.write(JSON.stringify(result) + '\n');
    return 0;
  } catch (err) {
    const known = err instanceof UsageError || err instanceof UserInputError || err instanceof ClientInputError || err instanceof TokenIssueError || err instanceof ConfigError || err instanceof DatabaseStartupError || err instanceof NoDatabaseError;
    process.stderr.write(`error: ${known ? (err as Error).message : `unexpected failure: ${(err as Error).message}`}\n`);
    return err instanceof UsageError ? 2 : 1;
  } finally {
    await app?.close().catch(() => undefined);
    await stopEmbedded?.().catch(() => undefined);
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
