import { loadConfig } from './app-config';

describe('configuration', () => {
  it('fills every default when nothing is set', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.issuer).toBe('http://localhost:3000');
    expect(config.database.url).toBeUndefined();
    expect(config.database.embeddedDataDir).toBe('.data/pglite');
    expect(config.database.migrationsRun).toBe(true);
    expect(config.tokens.prefixes).toEqual({ access: 'oat_', refresh: 'ort_' });
  });

  it('defaults the token endpoint, introspection and retention settings, and shares CORS among the endpoints', () => {
    const config = loadConfig({ CORS_ORIGINS: 'https://app.example.com' });
    expect(config.tokens.retention).toEqual({ days: 30, cleanupIntervalSeconds: 0, cleanupBatchSize: 1000 });
    expect(config.tokenEndpoint).toEqual({ path: 'oauth2/token', corsOrigins: ['https://app.example.com'], corsMaxAgeSeconds: 600 });
    expect(config.introspection).toEqual({ path: 'oauth2/introspect', corsOrigins: ['https://app.example.com'], corsMaxAgeSeconds: 600 });
    const set = loadConfig({ TOKEN_RETENTION_DAYS: '7', TOKEN_CLEANUP_INTERVAL_SECONDS: '3600', TOKEN_CLEANUP_BATCH_SIZE: '500', TOKEN_PATH: 'token' });
    expect(set.tokens.retention).toEqual({ days: 7, cleanupIntervalSeconds: 3600, cleanupBatchSize: 500 });
    expect(set.tokenEndpoint.path).toBe('token');
  });

  it('derives the default issuer from PORT and drops a trailing slash of ISSUER', () => {
    expect(loadConfig({ PORT: '8080' }).issuer).toBe('http://localhost:8080');
    expect(loadConfig({ ISSUER: 'https://auth.example.com/' }).issuer).toBe('https://auth.example.com');
  });

  it('reads MIGRATIONS_RUN as a boolean', () => {
    expect(loadConfig({ MIGRATIONS_RUN: 'false' }).database.migrationsRun).toBe(false);
    expect(loadConfig({ MIGRATIONS_RUN: 'true' }).database.migrationsRun).toBe(true);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://x'],
    ['MIGRATIONS_RUN', 'maybe'],
    ['ACCESS_TOKEN_PREFIX', 'Bad-Prefix'],
    ['DATABASE_POOL_SIZE', '0'],
    ['LOG_LEVEL', 'loud'],
    ['ISSUER', 'not a url'],
    ['ACCESS_TOKEN_TTL_SECONDS', '3000000000'],
    ['TRUST_PROXY', 'sometimes'],
    ['TOKEN_PATH', 'oauth2 token'],
    ['INTROSPECTION_PATH', 'x?y'],
    ['TOKEN_RETENTION_DAYS', '0'],
    ['TOKEN_CLEANUP_INTERVAL_SECONDS', '-1'],
    ['TOKEN_CLEANUP_BATCH_SIZE', '0'],
    ['AUTH_FAILURES_PER_CLIENT_ADDRESS', '-1'],
    ['AUTH_FAILURE_STORE', 'disk'],
    ['AUTH_FAILURE_MEMORY_BYTES', '10'],
    ['HTTP_HEADERS_TIMEOUT_MS', '5'],
  ])('stops with a message naming %s when it is %j', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it('reads the discovery settings: max-age, and both aliases off unless switched on', () => {
    expect(loadConfig({}).discovery).toEqual({ maxAgeSeconds: 3600, openidConfigurationAlias: false, matrixAuthMetadataAlias: false });
    expect(
      loadConfig({ DISCOVERY_MAX_AGE_SECONDS: '60', DISCOVERY_OPENID_CONFIGURATION_ALIAS: 'true', DISCOVERY_MATRIX_AUTH_METADATA_ALIAS: 'true' }).discovery,
    ).toEqual({ maxAgeSeconds: 60, openidConfigurationAlias: true, matrixAuthMetadataAlias: true });
  });

  it.each([
    ['DISCOVERY_MAX_AGE_SECONDS', '-1'],
    ['DISCOVERY_OPENID_CONFIGURATION_ALIAS', 'maybe'],
    ['DISCOVERY_MATRIX_AUTH_METADATA_ALIAS', 'sometimes'],
  ])('stops with a message naming %s when it is %j', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it.each([
    ['http://auth.example.com', 'must use https'],
    ['https://auth.example.com?tenant=1', 'must not have a query component'],
    ['https://auth.example.com#x', 'must not have a fragment component'],
    ['https://auth.example.com/t:1', 'its path cannot be a route prefix'],
  ])('stops with a message naming ISSUER when it is %s (RFC 8414 §2)', (issuer, reason) => {
    expect(() => loadConfig({ ISSUER: issuer })).toThrow(`Invalid configuration: ISSUER=${JSON.stringify(issuer)}: ${reason}`);
  });

  it('accepts plain http for the loopback hosts only', () => {
    for (const issuer of ['http://localhost:3000', 'http://127.0.0.1:3000', 'http://[::1]:3000']) expect(loadConfig({ ISSUER: issuer }).issuer).toBe(issuer);
  });

  it('writes the default issuer without the default port, so that it is a canonical issuer', () => {
    expect(loadConfig({ PORT: '80' }).issuer).toBe('http://localhost');
  });

  it('never echoes DATABASE_URL (it may hold a password)', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://user:hunter2@x' })).toThrow(/^(?!.*hunter2)/s);
  });

  it('serves registration by default (public clients, open, 10 per address an hour, unused clients kept 30 days), and reads its settings', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://app.example.com' }).registration).toEqual({
      path: 'oauth2/register',
      corsOrigins: ['https://app.example.com'],
      corsMaxAgeSeconds: 600,
      confidentialClients: false,
      initialAccessToken: undefined,
      rateLimit: { perAddress: 10, windowSeconds: 3600 },
      unusedClientDays: 30,
    });
    const set = loadConfig({
      REGISTRATION_PATH: '/register/',
      REGISTRATION_CONFIDENTIAL_CLIENTS: 'true',
      REGISTRATION_INITIAL_ACCESS_TOKEN: 'a-long-operator-token-0123',
      REGISTRATION_RATE_LIMIT: '0',
      REGISTRATION_RATE_LIMIT_WINDOW_SECONDS: '60',
      REGISTRATION_UNUSED_CLIENT_DAYS: '7',
    }).registration;
    expect(set).toMatchObject({ path: '/register/', confidentialClients: true, initialAccessToken: 'a-long-operator-token-0123', rateLimit: { perAddress: 0, windowSeconds: 60 }, unusedClientDays: 7 });
    expect(loadConfig({ REGISTRATION_ENABLED: 'false' }).registration).toBeNull();
    expect(() => loadConfig({ REGISTRATION_PATH: 'oauth2/revoke' })).toThrow(/must differ/);
  });

  it('refuses a short or malformed REGISTRATION_INITIAL_ACCESS_TOKEN without echoing it', () => {
    expect(() => loadConfig({ REGISTRATION_INITIAL_ACCESS_TOKEN: 'short-secret' })).toThrow(/^(?!.*short-secret).*REGISTRATION_INITIAL_ACCESS_TOKEN=\(hidden\)/s);
    expect(() => loadConfig({ REGISTRATION_INITIAL_ACCESS_TOKEN: 'has spaces in it, and is long' })).toThrow(/REGISTRATION_INITIAL_ACCESS_TOKEN/);
  });

  it('groups revocations two statements at a time by default, reads REVOCATION_STATEMENTS_IN_FLIGHT (0: no grouping) and refuses what is not a whole number', () => {
    expect(loadConfig({}).revocation.statementsInFlight).toBe(2);
    expect(loadConfig({ REVOCATION_STATEMENTS_IN_FLIGHT: '0' }).revocation.statementsInFlight).toBe(0);
    expect(loadConfig({ REVOCATION_STATEMENTS_IN_FLIGHT: '8' }).revocation.statementsInFlight).toBe(8);
    for (const bad of ['-1', '1.5', 'many']) expect(() => loadConfig({ REVOCATION_STATEMENTS_IN_FLIGHT: bad })).toThrow(/REVOCATION_STATEMENTS_IN_FLIGHT/);
  });

  it('refuses equal access and refresh prefixes', () => {
    expect(() => loadConfig({ ACCESS_TOKEN_PREFIX: 'tok_', REFRESH_TOKEN_PREFIX: 'tok_' })).toThrow('must differ');
  });

  it('refuses two OAuth endpoints on the same path', () => {
    expect(() => loadConfig({ REVOCATION_PATH: 'oauth2/token' })).toThrow(/must differ/);
  });

  it('reads TRUST_PROXY as Express takes it', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).trustProxy).toBe('10.0.0.0/8, 127.0.0.1');
  });

  it('refuses TRUST_PROXY=true: the leftmost X-Forwarded-For address is whatever the client wrote', () => {
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY=true .*number of proxies/);
    expect(() => loadConfig({ TRUST_PROXY: 'TRUE' })).toThrow(/TRUST_PROXY/);
  });

  it('reads the brute-force limits, with the per (client id, address) limit first and a high per-client-id ceiling', () => {
    expect(loadConfig({}).authFailureLimits).toEqual({ perClientAddress: 10, perAddress: 50, perClient: 1000, windowSeconds: 60 });
    expect(
      loadConfig({ AUTH_FAILURES_PER_CLIENT_ADDRESS: '5', AUTH_FAILURES_PER_ADDRESS: '20', AUTH_FAILURES_PER_CLIENT: '500', AUTH_FAILURE_WINDOW_SECONDS: '120' })
        .authFailureLimits,
    ).toEqual({ perClientAddress: 5, perAddress: 20, perClient: 500, windowSeconds: 120 });
  });

  it('keeps the brute-force counters where every instance sees them: Redis with REDIS_URL, PostgreSQL with DATABASE_URL, else in memory', () => {
    expect(loadConfig({}).authFailureStore).toBe('memory');
    expect(loadConfig({ DATABASE_URL: 'postgres://db/x' }).authFailureStore).toBe('postgres');
    expect(loadConfig({ DATABASE_URL: 'postgres://db/x', REDIS_URL: 'redis://r:6379' }).authFailureStore).toEqual({ redisUrl: 'redis://r:6379' });
    expect(loadConfig({ DATABASE_URL: 'postgres://db/x', AUTH_FAILURE_STORE: 'memory' }).authFailureStore).toBe('memory');
    expect(loadConfig({}).authFailureMemoryBytes).toBe(16 * 1024 * 1024);
    expect(() => loadConfig({ AUTH_FAILURE_STORE: 'redis' })).toThrow('AUTH_FAILURE_STORE=redis needs REDIS_URL');
    expect(() => loadConfig({ REDIS_URL: 'http://user:hunter2@r' })).toThrow(/^(?!.*hunter2).*REDIS_URL/s);
  });

  it('reads the HTTP timeouts, headers first', () => {
    expect(loadConfig({}).http).toEqual({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 });
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '30000', HTTP_REQUEST_TIMEOUT_MS: '30000' })).toThrow('HTTP_HEADERS_TIMEOUT_MS');
  });
});
