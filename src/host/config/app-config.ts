import type { AccountModuleOptions } from '../../account/account-options.interface';
import type { LogLevel } from '@nestjs/common';
import type { DatabaseSettings } from '../../database/database-settings.interface';
import { ConfigError, validateEnvironment } from './environment';
import { InvalidIssuerError } from '../../discovery/issuer';
import { issuerRouting } from '../../discovery/issuer-routing';
import type { TokenPrefixes } from '../../grants/token-format';
import type { AuthFailureStoreOption } from '../../clients/auth-failure-store.factory';
import type { ForeignClientPolicy, RevocationModuleOptions } from '../../revocation/revocation-options.interface';
import type { TokenRetentionOptions } from '../../grants/grants-options';
import type { TokenEndpointModuleOptions } from '../../token-endpoint/token-endpoint.module';
import type { IntrospectionModuleOptions } from '../../introspection/introspection.module';
import type { AuthorizationModuleOptions } from '../../authorization/authorization-options.interface';
import type { RegistrationModuleOptions } from '../../registration/registration-options.interface';
import type { LoginModuleOptions } from '../../login/login-options.interface';
import type { DeviceAuthorizationModuleOptions } from '../../device/device-options.interface';

export interface AuthFailureSettings {
  perClientAddress: number;
  perAddress: number;
  perClient: number;
  windowSeconds: number;
}

export interface HttpSettings {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
}

export interface TokenSettings {
  prefixes: TokenPrefixes;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  retention: Required<TokenRetentionOptions>;
}

export interface DiscoverySettings {
  maxAgeSeconds: number;
  openidConfigurationAlias: boolean;
  matrixAuthMetadataAlias: boolean;
}

export interface AppConfig {
  port: number;
  host: string;
  /** Express's `trust proxy` setting: which hops may set X-Forwarded-For (client addresses for brute-force limits). */
  trustProxy: false | number | string;
  issuer: string;
  database: DatabaseSettings;
  tokens: TokenSettings;
  revocation: RevocationModuleOptions;
  tokenEndpoint: TokenEndpointModuleOptions;
  introspection: IntrospectionModuleOptions;
  authorization: AuthorizationModuleOptions;
  /** Null when REGISTRATION_ENABLED=false: no registration endpoint. */
  registration: RegistrationModuleOptions | null;
  /** The built-in login step (local accounts, login and consent pages). */
  login: LoginModuleOptions;
  /** The device authorization grant (RFC 8628): endpoint, verification page, token grant. */
  device: DeviceAuthorizationModuleOptions;
  /** The account page: people list and end their own sessions. */
  account: AccountModuleOptions;
  authFailureLimits: AuthFailureSettings;
  cache: { ttlSeconds: number; maxEntries: number; listenUrl?: string };
  /** Where the brute-force counters live: shared among instances with postgres or redis. */
  authFailureStore: AuthFailureStoreOption;
  authFailureMemoryBytes: number;
  http: HttpSettings;
  discovery: DiscoverySettings;
  logLevels: LogLevel[];
}

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** Reads and validates every setting once; the rest of the code receives the result, never process.env. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const vars = validateEnvironment(env);
  // `origin` drops a default port (PORT=80), so the default issuer is in the canonical form clients compare.
  const issuer = (vars.ISSUER ?? new URL(`http://localhost:${vars.PORT}`).origin).replace(/\/+$/, '');
  try {
    // The RFC 8414 rules, and a path the server can put its routes under (see server.ts).
    issuerRouting(issuer);
  } catch (err) {
    if (!(err instanceof InvalidIssuerError)) throw err;
    throw new ConfigError(`Invalid configuration: ISSUER=${JSON.stringify(vars.ISSUER ?? issuer)}: ${err.reason}`);
  }
  // LOGIN_PATH may name another server's login (an absolute URL); the built-in pages then stay at /login.
  const loginPath = /^https?:\/\//.test(vars.LOGIN_PATH) ? 'login' : vars.LOGIN_PATH;
  const paths = [vars.REVOCATION_PATH, vars.TOKEN_PATH, vars.INTROSPECTION_PATH, vars.AUTHORIZATION_PATH, vars.REGISTRATION_PATH, loginPath, vars.DEVICE_AUTHORIZATION_PATH, vars.DEVICE_VERIFICATION_PATH, vars.ACCOUNT_PATH].map((p) => p.replace(/^\/+|\/+$/g, ''));
  if (new Set(paths).size !== paths.length) {
    throw new ConfigError(`Invalid configuration: REVOCATION_PATH, TOKEN_PATH, INTROSPECTION_PATH, AUTHORIZATION_PATH, REGISTRATION_PATH, LOGIN_PATH, DEVICE_AUTHORIZATION_PATH, DEVICE_VERIFICATION_PATH and ACCOUNT_PATH must differ (got ${paths.join(', ')})`);
  }
  // Shared brute-force counters whenever the deployment has a shared place for them: instances behind one
  // load balancer must count the same failures.
  const store = vars.AUTH_FAILURE_STORE ?? (vars.REDIS_URL ? 'redis' : vars.DATABASE_URL ? 'postgres' : 'memory');
  // One CORS policy for every OAuth endpoint of the host app.
  const cors = { corsOrigins: vars.CORS_ORIGINS.split(',').map((o) => o.trim()), corsMaxAgeSeconds: vars.CORS_MAX_AGE_SECONDS };
  return {
    port: vars.PORT,
    host: vars.HOST,
    trustProxy: vars.TRUST_PROXY === 'false' ? false : /^\d+$/.test(vars.TRUST_PROXY) ? Number(vars.TRUST_PROXY) : vars.TRUST_PROXY,
    issuer,
    database: {
      url: vars.DATABASE_URL,
      poolSize: vars.DATABASE_POOL_SIZE,
      statementTimeoutMs: vars.DATABASE_STATEMENT_TIMEOUT_MS,
      connectTimeoutMs: vars.DATABASE_CONNECT_TIMEOUT_MS,
      embeddedDataDir: vars.EMBEDDED_DATA_DIR,
      migrationsRun: vars.MIGRATIONS_RUN,
      announceAfterCommit: vars.DATABASE_ANNOUNCE_AFTER_COMMIT,
      pgOptions: vars.PGOPTIONS,
    },
    tokens: {
      prefixes: { access: vars.ACCESS_TOKEN_PREFIX, refresh: vars.REFRESH_TOKEN_PREFIX },
      accessTtlSeconds: vars.ACCESS_TOKEN_TTL_SECONDS,
      refreshTtlSeconds: vars.REFRESH_TOKEN_TTL_SECONDS,
      retention: {
        days: vars.TOKEN_RETENTION_DAYS,
        cleanupIntervalSeconds: vars.TOKEN_CLEANUP_INTERVAL_SECONDS,
        cleanupBatchSize: vars.TOKEN_CLEANUP_BATCH_SIZE,
      },
    },
    revocation: {
      path: vars.REVOCATION_PATH,
      anonymous: vars.REVOCATION_ANONYMOUS as 'allow' | 'deny',
      foreignClient: vars.REVOCATION_FOREIGN_CLIENT as ForeignClientPolicy,
      statementsInFlight: vars.REVOCATION_STATEMENTS_IN_FLIGHT,
      ...cors,
    },
    tokenEndpoint: { path: vars.TOKEN_PATH, ...cors },
    introspection: { path: vars.INTROSPECTION_PATH, ...cors },
    authorization: {
      path: vars.AUTHORIZATION_PATH,
      loginPath: vars.LOGIN_PATH,
      codeTtlSeconds: vars.AUTHORIZATION_CODE_TTL_SECONDS,
      requestTtlSeconds: vars.AUTHORIZATION_REQUEST_TTL_SECONDS,
    },
    login: {
      path: loginPath,
      sessionTtlSeconds: vars.LOGIN_SESSION_TTL_SECONDS,
      secret: vars.LOGIN_SECRET,
      selfRegistration: vars.LOGIN_SELF_REGISTRATION,
      failureLimits: {
        perUsernameAddress: vars.LOGIN_FAILURES_PER_USERNAME_ADDRESS,
        perAddress: vars.LOGIN_FAILURES_PER_ADDRESS,
        windowSeconds: vars.LOGIN_FAILURE_WINDOW_SECONDS,
      },
    },
    device: {
      path: vars.DEVICE_AUTHORIZATION_PATH,
      ...cors,
      verificationPath: vars.DEVICE_VERIFICATION_PATH,
      expiresInSeconds: vars.DEVICE_CODE_TTL_SECONDS,
      intervalSeconds: vars.DEVICE_POLL_INTERVAL_SECONDS,
      // One key for the server's forms: the verification form's CSRF tokens as the login's.
      secret: vars.LOGIN_SECRET,
      userCodeLimits: { perAddress: vars.DEVICE_USER_CODE_FAILURES_PER_ADDRESS, global: vars.DEVICE_USER_CODE_FAILURES },
    },
    account: { path: vars.ACCOUNT_PATH, reauthenticateAfterSeconds: vars.ACCOUNT_REAUTHENTICATE_AFTER_SECONDS },
    cache: { ttlSeconds: vars.CACHE_TTL_SECONDS, maxEntries: vars.CACHE_MAX_ENTRIES, listenUrl: vars.DATABASE_LISTEN_URL },
    registration: vars.REGISTRATION_ENABLED
      ? {
          path: vars.REGISTRATION_PATH,
          ...cors,
          confidentialClients: vars.REGISTRATION_CONFIDENTIAL_CLIENTS,
          initialAccessToken: vars.REGISTRATION_INITIAL_ACCESS_TOKEN,
          rateLimit: { perAddress: vars.REGISTRATION_RATE_LIMIT, windowSeconds: vars.REGISTRATION_RATE_LIMIT_WINDOW_SECONDS },
          unusedClientDays: vars.REGISTRATION_UNUSED_CLIENT_DAYS,
        }
      : null,
    authFailureLimits: {
      perClientAddress: vars.AUTH_FAILURES_PER_CLIENT_ADDRESS,
      perAddress: vars.AUTH_FAILURES_PER_ADDRESS,
      perClient: vars.AUTH_FAILURES_PER_CLIENT,
      windowSeconds: vars.AUTH_FAILURE_WINDOW_SECONDS,
    },
    authFailureStore: store === 'redis' ? { redisUrl: vars.REDIS_URL! } : (store as 'memory' | 'postgres'),
    authFailureMemoryBytes: vars.AUTH_FAILURE_MEMORY_BYTES,
    http: { headersTimeoutMs: vars.HTTP_HEADERS_TIMEOUT_MS, requestTimeoutMs: vars.HTTP_REQUEST_TIMEOUT_MS },
    discovery: {
      maxAgeSeconds: vars.DISCOVERY_MAX_AGE_SECONDS,
      openidConfigurationAlias: vars.DISCOVERY_OPENID_CONFIGURATION_ALIAS,
      matrixAuthMetadataAlias: vars.DISCOVERY_MATRIX_AUTH_METADATA_ALIAS,
    },
    logLevels: LEVELS.slice(0, LEVELS.indexOf(vars.LOG_LEVEL as LogLevel) + 1),
  };
}
