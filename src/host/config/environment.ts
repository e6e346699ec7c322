import 'reflect-metadata';
import { plainToInstance, Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsOptional, IsString, Matches, MinLength, ValidateBy, validateSync } from 'class-validator';
import { TOKEN_PREFIX_PATTERN } from '../../grants/token-format';

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;
const toBool = ({ value }: { value: unknown }) => {
  if (typeof value !== 'string') return value;
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  return value;
};
const emptyToUndefined = ({ value }: { value: unknown }) => (value === '' ? undefined : value);

/**
 * A whole number within bounds, as one rule with one message: IsInt, Min and Max would each add their own
 * message for one wrong value (PORT=abc gave three).
 */
function WholeNumber(min: number, max?: number): PropertyDecorator {
  return ValidateBy({
    name: 'wholeNumber',
    validator: {
      validate: (value: unknown) => Number.isInteger(value) && (value as number) >= min && (max === undefined || (value as number) <= max),
      defaultMessage: (args) => `${args?.property} must be a whole number ${max === undefined ? `of at least ${min}` : `from ${min} to ${max}`}`,
    },
  });
}

/**
 * Every environment variable the host app reads, with its default. Validated once at startup
 * (see loadConfig); `.env.example` lists the same settings.
 */
export class EnvironmentVariables {
  @Transform(toInt) @WholeNumber(0, 65535)
  PORT = 3000;

  @IsString()
  HOST = '0.0.0.0';

  /** Express's `trust proxy`: false, a hop count, or a comma list of proxy addresses/subnets (true is refused). */
  @Matches(/^(true|false|\d+|[0-9a-fA-F.:/]+(\s*,\s*[0-9a-fA-F.:/]+)*|loopback|linklocal|uniquelocal)$/, {
    message: 'TRUST_PROXY must be false, a number of hops, or a comma list of proxy addresses',
  })
  TRUST_PROXY = 'false';

  @Transform(emptyToUndefined) @IsOptional() @IsString()
  ISSUER?: string;

  @Transform(emptyToUndefined) @IsOptional() @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'DATABASE_URL must be a postgres:// or postgresql:// URL' })
  DATABASE_URL?: string;

  @Transform(toInt) @WholeNumber(1, 1000)
  DATABASE_POOL_SIZE = 10;

  /** Where the cache invalidation listener connects (LISTEN needs a session: not through a transaction-mode pooler); default DATABASE_URL. */
  @Transform(emptyToUndefined) @IsOptional() @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'DATABASE_LISTEN_URL must be a postgres:// or postgresql:// URL' })
  DATABASE_LISTEN_URL?: string;

  /**
   * The server announces each revocation right after it commits, instead of a notification inside the
   * revoking transaction (which serialises revocations cluster-wide); false behind a pooler that refuses
   * the `options` startup parameter.
   */
  @Transform(toBool) @IsBoolean({ message: 'DATABASE_ANNOUNCE_AFTER_COMMIT must be true or false' })
  DATABASE_ANNOUNCE_AFTER_COMMIT = true;

  /** pg's own session options (`-c name=value …`): kept when DATABASE_ANNOUNCE_AFTER_COMMIT adds its own. */
  @Transform(emptyToUndefined) @IsOptional() @IsString()
  PGOPTIONS?: string;

  /** Longest a cached token check or client record lives; 0 turns the caches off. */
  @Transform(toInt) @WholeNumber(0, 86400)
  CACHE_TTL_SECONDS = 300;

  @Transform(toInt) @WholeNumber(1, 10_000_000)
  CACHE_MAX_ENTRIES = 10_000;

  @Transform(toInt) @WholeNumber(0)
  DATABASE_STATEMENT_TIMEOUT_MS = 5000;

  @Transform(toInt) @WholeNumber(100)
  DATABASE_CONNECT_TIMEOUT_MS = 5000;

  @IsString()
  EMBEDDED_DATA_DIR = '.data/pglite';

  @Transform(toBool) @IsBoolean({ message: 'MIGRATIONS_RUN must be true or false' })
  MIGRATIONS_RUN = true;

  @Matches(TOKEN_PREFIX_PATTERN, { message: 'ACCESS_TOKEN_PREFIX must be 2-15 lower-case letters or digits followed by "_"' })
  ACCESS_TOKEN_PREFIX = 'oat_';

  @Matches(TOKEN_PREFIX_PATTERN, { message: 'REFRESH_TOKEN_PREFIX must be 2-15 lower-case letters or digits followed by "_"' })
  REFRESH_TOKEN_PREFIX = 'ort_';

  // Bounded by PostgreSQL's integer, which the SQL functions take lifetimes in.
  @Transform(toInt) @WholeNumber(1, 2147483647)
  ACCESS_TOKEN_TTL_SECONDS = 3600;

  @Transform(toInt) @WholeNumber(1, 2147483647)
  REFRESH_TOKEN_TTL_SECONDS = 30 * 24 * 3600;

  @IsIn(['error', 'warn', 'log', 'debug', 'verbose'])
  LOG_LEVEL = 'log';

  @Matches(/^\/?[A-Za-z0-9._~\-/]+$/, { message: 'REVOCATION_PATH must be a URL path such as oauth2/revoke' })
  REVOCATION_PATH = 'oauth2/revoke';

  @Matches(/^\/?[A-Za-z0-9._~\-/]+$/, { message: 'TOKEN_PATH must be a URL path such as oauth2/token' })
  TOKEN_PATH = 'oauth2/token';

  @Matches(/^\/?[A-Za-z0-9._~\-/]+$/, { message: 'INTROSPECTION_PATH must be a URL path such as oauth2/introspect' })
  INTROSPECTION_PATH = 'oauth2/introspect';

  @Matches(/^\/?[A-Za-z0-9._~\-/]+$/, { message: 'AUTHORIZATION_PATH must be a URL path such as oauth2/authorize' })
  AUTHORIZATION_PATH = 'oauth2/authorize';

  /** Where the authorization endpoint sends the browser to log in: a path under the issuer, or an absolute URL. */
  @Matches(/^(\/?[A-Za-z0-9._~\-/]+|https?:\/\/\S+)$/, { message: 'LOGIN_PATH must be a URL path such as login, or an absolute http(s) URL' })
  LOGIN_PATH = 'login';

  /** How long a browser stays signed in to the built-in login. */
  @Transform(toInt) @WholeNumber(60, 2147483647)
  LOGIN_SESSION_TTL_SECONDS = 7 * 24 * 3600;

  /** HMAC key of the login forms' CSRF tokens; unset: random per process (set it when running several instances). */
  @Transform(emptyToUndefined) @IsOptional() @IsString() @MinLength(32, { message: 'LOGIN_SECRET must be at least 32 characters' })
  LOGIN_SECRET?: string;

  /** prompt=create shows a sign-up form (Matrix account registration). */
  @Transform(toBool) @IsBoolean({ message: 'LOGIN_SELF_REGISTRATION must be true or false' })
  LOGIN_SELF_REGISTRATION = false;

  /** Failed logins allowed per (username, remote address) per window (0 = no limit). */
  @Transform(toInt) @WholeNumber(0)
  LOGIN_FAILURES_PER_USERNAME_ADDRESS = 5;

  /** Failed logins allowed per remote address per window (0 = no limit). */
  @Transform(toInt) @WholeNumber(0)
  LOGIN_FAILURES_PER_ADDRESS = 50;

  @Transform(toInt) @WholeNumber(1)
  LOGIN_FAILURE_WINDOW_SECONDS = 300;

  /** The account page (sessions, sign-out, deactivation), under the issuer. */
  @Matches(/^\/?[A-Za-z0-9._~\-/]+$/, { message: 'ACCOUNT_PATH must be a URL path such as account' })
  ACCOUNT_PATH = 'account';

  /** Signing a session out on the account page asks for the password again when the last one was entered longer ago. */
  @Transform(toInt) @WholeNumber(0)
  ACCOUNT_REAUTHENTICATE_AFTER_SECONDS = 300;

  /** How long an authorization code lives (RFC 6749 §4.1.2: short). */
  @Transform(toInt) @WholeNumber(1, 600)
  AUTHORIZATION_CODE_TTL_SECONDS = 60;

  /** How long a validated authorization request waits for the login step. */
  @Transform(toInt) @WholeNumber(10, 86400)
  AUTHORIZATION_REQUEST_TTL_SECONDS = 600;

  @Matches(/^\/?[A-Za-z0-9._~\-/]+$/, { message: 'DEVICE_AUTHORIZATION_PATH must be a URL path such as oauth2/device' })
  DEVICE_AUTHORIZATION_PATH = 'oauth2/device';

  /** The verification page where a person enters a device's user code (RFC 8628 §3.3). */
  @Matches(/^\/?[A-Za-z0-9._~\-/]+$/, { message: 'DEVICE_VERIFICATION_PATH must be a URL path such as device' })
  DEVICE_VERIFICATION_PATH = 'device';

  /** How long a device code and its user code live (RFC 8628 §3.2 expires_in). */
  @Transform(toInt) @WholeNumber(10, 86400)
  DEVICE_CODE_TTL_SECONDS = 600;

  /** The polling interval devices are told (RFC 8628 §3.2 interval). */
  @Transform(toInt) @WholeNumber(1, 60)
  DEVICE_POLL_INTERVAL_SECONDS = 5;

  /** Wrong user codes allowed per remote address per 5 minutes on the verification page (0 = no limit). */
  @Transform(toInt) @WholeNumber(0)
  DEVICE_USER_CODE_FAILURES_PER_ADDRESS = 10;

  /** Wrong user codes allowed from all addresses together per 5 minutes (0 = no limit). */
  @Transform(toInt) @WholeNumber(0)
  DEVICE_USER_CODE_FAILURES = 1000;

  @Matches(/^\/?[A-Za-z0-9._~\-/]+$/, { message: 'REGISTRATION_PATH must be a URL path such as oauth2/register' })
  REGISTRATION_PATH = 'oauth2/register';
  /** Serve dynamic client registration (RFC 7591) and publish registration_endpoint. */
  @Transform(toBool) @IsBoolean({ message: 'REGISTRATION_ENABLED must be true or false' })
  REGISTRATION_ENABLED = true;
  /** Let clients register with a server-generated secret (client_secret_basic, client_secret_post). */
  @Transform(toBool) @IsBoolean({ message: 'REGISTRATION_CONFIDENTIAL_CLIENTS must be true or false' })
  REGISTRATION_CONFIDENTIAL_CLIENTS = false;
  /** RFC 7591 §3: a bearer token that registration requires; unset = open registration. */
  @Transform(emptyToUndefined) @IsOptional() @Matches(/^[A-Za-z0-9\-._~+/]{16,}=*$/, {
    message: 'REGISTRATION_INITIAL_ACCESS_TOKEN must be at least 16 characters of A-Z a-z 0-9 - . _ ~ + / (a bearer token)',
  })
  REGISTRATION_INITIAL_ACCESS_TOKEN?: string;
  /** Registration requests allowed per remote address per window (0 = no limit). */
  @Transform(toInt) @WholeNumber(0)
  REGISTRATION_RATE_LIMIT = 10;
  @Transform(toInt) @WholeNumber(1)
  REGISTRATION_RATE_LIMIT_WINDOW_SECONDS = 3600;
  /** Days a dynamically registered client may go without a live grant before cleanup deletes it. */
  @Transform(toInt) @WholeNumber(1, 36500)
  REGISTRATION_UNUSED_CLIENT_DAYS = 30;

  @IsIn(['allow', 'deny'], { message: 'REVOCATION_ANONYMOUS must be allow or deny' })
  REVOCATION_ANONYMOUS = 'allow';

  @IsIn(['revoke', 'ignore', 'reject'], { message: 'REVOCATION_FOREIGN_CLIENT must be revoke, ignore or reject' })
  REVOCATION_FOREIGN_CLIENT = 'revoke';

  /** Revocation statements run at once; requests beyond wait and go together in the next (0: no grouping). */
  @Transform(toInt) @WholeNumber(0, 1000)
  REVOCATION_STATEMENTS_IN_FLIGHT = 2;

  /** Comma-separated origins, or `*`. */
  @Matches(/^(\*|https?:\/\/[^\s,]+(\s*,\s*https?:\/\/[^\s,]+)*)$/, { message: 'CORS_ORIGINS must be * or a comma list of origins such as https://app.example.com' })
  CORS_ORIGINS = '*';

  @Transform(toInt) @WholeNumber(0)
  CORS_MAX_AGE_SECONDS = 600;

  /** Days expired and revoked tokens are kept (still revocable, reuse still detected) before cleanup. */
  @Transform(toInt) @WholeNumber(1, 36500)
  TOKEN_RETENTION_DAYS = 30;

  /** 0: no cleanup inside the app (run `tokens:cleanup` from cron instead). */
  @Transform(toInt) @WholeNumber(0)
  TOKEN_CLEANUP_INTERVAL_SECONDS = 0;

  @Transform(toInt) @WholeNumber(1, 100000)
  TOKEN_CLEANUP_BATCH_SIZE = 1000;

  /** Failed client authentications allowed per (client id, remote address) per window (0 = no limit). */
  @Transform(toInt) @WholeNumber(0)
  AUTH_FAILURES_PER_CLIENT_ADDRESS = 10;

  /** Failed client authentications allowed per remote address per window (0 = no limit). */
  @Transform(toInt) @WholeNumber(0)
  AUTH_FAILURES_PER_ADDRESS = 50;

  /** Ceiling of failures per client id from all addresses per window (0 = none); see the README's security notes. */
  @Transform(toInt) @WholeNumber(0)
  AUTH_FAILURES_PER_CLIENT = 1000;

  @Transform(toInt) @WholeNumber(1)
  AUTH_FAILURE_WINDOW_SECONDS = 60;

  /** memory | postgres | redis; unset: redis with REDIS_URL, postgres with DATABASE_URL, memory otherwise. */
  @Transform(emptyToUndefined) @IsOptional() @IsIn(['memory', 'postgres', 'redis'], { message: 'AUTH_FAILURE_STORE must be memory, postgres or redis' })
  AUTH_FAILURE_STORE?: string;

  /** Bound of the in-process store in bytes. */
  @Transform(toInt) @WholeNumber(65536)
  AUTH_FAILURE_MEMORY_BYTES = 16 * 1024 * 1024;

  @Transform(emptyToUndefined) @IsOptional() @Matches(/^rediss?:\/\/\S+$/, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  REDIS_URL?: string;

  /** Node's headersTimeout: a request whose headers are not complete by then is answered 408. */
  @Transform(toInt) @WholeNumber(100)
  HTTP_HEADERS_TIMEOUT_MS = 10_000;

  /** Node's requestTimeout: the whole request, body included, must arrive within this. */
  @Transform(toInt) @WholeNumber(100)
  HTTP_REQUEST_TIMEOUT_MS = 30_000;

  @Transform(toInt) @WholeNumber(0)
  DISCOVERY_MAX_AGE_SECONDS = 3600;

  @Transform(toBool) @IsBoolean({ message: 'DISCOVERY_OPENID_CONFIGURATION_ALIAS must be true or false' })
  DISCOVERY_OPENID_CONFIGURATION_ALIAS = false;

  @Transform(toBool) @IsBoolean({ message: 'DISCOVERY_MATRIX_AUTH_METADATA_ALIAS must be true or false' })
  DISCOVERY_MATRIX_AUTH_METADATA_ALIAS = false;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Variables whose value an error message never shows. */
const SECRET_VARIABLES = new Set(['DATABASE_URL', 'DATABASE_LISTEN_URL', 'REDIS_URL', 'REGISTRATION_INITIAL_ACCESS_TOKEN', 'LOGIN_SECRET']);

/** Turns raw variables into validated settings; throws ConfigError naming each bad variable. */
export function validateEnvironment(env: NodeJS.ProcessEnv): EnvironmentVariables {
  const known = Object.keys(new EnvironmentVariables()).concat(['ISSUER', 'DATABASE_URL', 'DATABASE_LISTEN_URL', 'AUTH_FAILURE_STORE', 'REDIS_URL', 'REGISTRATION_INITIAL_ACCESS_TOKEN', 'LOGIN_SECRET']);
  const raw: Record<string, string> = {};
  for (const key of known) {
    const value = env[key];
    if (value !== undefined) raw[key] = value;
  }
  const vars = plainToInstance(EnvironmentVariables, raw);
  const errors = validateSync(vars, { skipMissingProperties: false });
  if (errors.length > 0) {
    const lines = errors.map((e) => {
      const shown = SECRET_VARIABLES.has(e.property) ? '(hidden)' : JSON.stringify(raw[e.property]);
      return `${e.property}=${shown}: ${Object.values(e.constraints ?? {}).join('; ')}`;
    });
    throw new ConfigError(`Invalid configuration: ${lines.join(' | ')}`);
  }
  if (vars.ACCESS_TOKEN_PREFIX === vars.REFRESH_TOKEN_PREFIX) {
    throw new ConfigError('Invalid configuration: ACCESS_TOKEN_PREFIX and REFRESH_TOKEN_PREFIX must differ');
  }
  if (vars.TRUST_PROXY.trim().toLowerCase() === 'true') {
    // Express would then take the leftmost X-Forwarded-For address, which the client writes itself: the
    // per-address brute-force limits would count whatever address an attacker names.
    throw new ConfigError(
      'Invalid configuration: TRUST_PROXY=true trusts an X-Forwarded-For address any client can forge; set the number of proxies in front of the server (e.g. 1) or their addresses (e.g. 10.0.0.0/8)',
    );
  }
  if (vars.AUTH_FAILURE_STORE === 'redis' && !vars.REDIS_URL) {
    throw new ConfigError('Invalid configuration: AUTH_FAILURE_STORE=redis needs REDIS_URL');
  }
  if (vars.HTTP_HEADERS_TIMEOUT_MS >= vars.HTTP_REQUEST_TIMEOUT_MS) {
    throw new ConfigError('Invalid configuration: HTTP_HEADERS_TIMEOUT_MS must be less than HTTP_REQUEST_TIMEOUT_MS');
  }
  return vars;
}
