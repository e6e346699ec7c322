import { INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import { ClientsService, OAUTH_ENTITIES, OAuthCoreModule, RevocationModule, TokenIssueError, TokensService } from '../src/index';
import { startPackageHost } from './fixtures/package-host';
import { basic, Fixtures } from './support/fixtures';
import { openTestPool, testDatabaseUrl, testPoolSize } from './support/test-database';

describe('RevocationModule imported into another Nest app through the public entry', () => {
  let app: INestApplication;
  let fx: Fixtures;
  let http: ReturnType<typeof request>;
  const pool = openTestPool();

  beforeAll(async () => {
    app = await startPackageHost(testDatabaseUrl(), testPoolSize());
    fx = new Fixtures(app, pool);
    http = request(app.getHttpServer());
  });
  afterAll(async () => {
    await app.close();
    await pool.end();
  });

  it('serves the configured path, revokes the whole grant and answers an empty 200', async () => {
    const c = await app.get(ClientsService).create({ clientId: `host-${Date.now()}`, authMethod: 'client_secret_basic' });
    const login = await app.get(TokensService).issueGrant({ clientId: c.client_id, subject: 'carol' });
    const res = await http.post('/connect/revocation').set('Authorization', basic(c.client_id, c.client_secret!)).type('form').send(`token=${login.access_token}`);
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(await fx.grantState(login.grant_id)).toEqual({ grantRevoked: true, liveAccess: 0, liveRefresh: 0, tokens: 2 });
  });

  it("keeps the body rules with the host's own body parser: duplicates, JSON bodies and oversized bodies are refused", async () => {
    const dup = await http.post('/connect/revocation').type('form').send('token=a&token=b');
    expect(dup.status).toBe(400);
    expect(dup.body).toEqual({ error: 'invalid_request', error_description: expect.stringContaining('more than once') });
    const json = await http.post('/connect/revocation').set('Content-Type', 'application/json').send('{"token":"a"}');
    expect(json.status).toBe(400);
    expect(json.body.error).toBe('invalid_request');
    const big = await http.post('/connect/revocation').type('form').send(`token=a&pad=${'x'.repeat(20 * 1024)}`);
    expect(big.status).toBe(413);
    expect(big.body.error).toBe('invalid_request');
  });

  it('answers 401 invalid_client with the issuer as Basic realm', async () => {
    const res = await http.post('/connect/revocation').set('Authorization', basic('ghost', 'nope')).type('form').send('token=a');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Basic realm="https://auth.example.com"');
  });

  it("leaves the host's own routes and error format alone", async () => {
    expect((await http.get('/api/hello')).body).toEqual({ hello: 'world' });
    const missing = await http.get('/api/missing');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ statusCode: 404 });
    expect(missing.headers['cache-control']).toBeUndefined();
  });

  it('TokensService refuses a scope outside RFC 6749 §3.3 with TokenIssueError, so no entry point stores one', async () => {
    const c = await app.get(ClientsService).create({ clientId: `scope-${Date.now()}`, authMethod: 'none' });
    for (const scope of ['a"b', 'caf\u00e9', 'a  b']) {
      await expect(app.get(TokensService).issueGrant({ clientId: c.client_id, scope })).rejects.toThrow(TokenIssueError);
      await expect(app.get(TokensService).issueClientCredentialsGrant({ clientId: c.client_id, scope })).rejects.toThrow(TokenIssueError);
    }
    expect((await pool.query('SELECT count(*)::int AS n FROM grants WHERE client_id = $1', [c.client_id])).rows[0].n).toBe(0);
    const ok = await app.get(TokensService).issueGrant({ clientId: c.client_id, scope: 'openid openid profile' });
    expect((await pool.query('SELECT scope FROM grants WHERE id = $1', [ok.grant_id])).rows[0].scope).toBe('openid profile');
  });

  it('does not serve the default path when another path is configured', async () => {
    expect((await http.post('/oauth2/revoke').type('form').send('token=a')).status).toBe(404);
  });
});

describe('OAuthCoreModule registered twice', () => {
  it('stops startup with a message saying to register it once, instead of silently ignoring one', async () => {
    @Module({
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url: testDatabaseUrl(), entities: OAUTH_ENTITIES, extra: { max: testPoolSize() }, retryAttempts: 0 }),
        OAuthCoreModule.forRoot({ issuer: 'https://auth.example.com' }),
        OAuthCoreModule.forRoot({ issuer: 'https://other.example.com' }),
        RevocationModule.forRoot({}),
      ],
    })
    class TwiceModule {}
    let app: INestApplication | undefined;
    const started = NestFactory.create(TwiceModule, { logger: false, abortOnError: false }).then((a) => (app = a));
    await expect(started).rejects.toThrow(/OAuthCoreModule is registered 2 times .* register it once/);
    await app?.close();
  });
});
