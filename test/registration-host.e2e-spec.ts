import { Body, Controller, Module, Post } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import request from 'supertest';
// Only the package's public entry, as another Nest auth server would import it.
import { OAUTH_ENTITIES, OAUTH_MIGRATIONS, OAuthCoreModule, RegistrationModule, RevocationModule } from '../src/index';
import { openTestPool, testDatabaseUrl, testPoolSize } from './support/test-database';

@Controller('api')
class EchoController {
  @Post('echo')
  echo(@Body() body: unknown): unknown {
    return body;
  }
}

const client = {
  client_uri: 'https://app.example.org/',
  redirect_uris: ['https://app.example.org/cb'],
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
};

/**
 * RegistrationModule in a host that leaves Nest's default body parsers on (JSON and forms parsed before any
 * route), under a global prefix and a custom path: the endpoint reads what the host parsed, and a body the
 * host's parser refuses still gets an RFC 7591 answer.
 */
describe('registration in a host app with its own body parsers on', () => {
  let app: INestApplication;
  let http: ReturnType<typeof request>;
  let pool: Pool;

  beforeAll(async () => {
    @Module({
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url: testDatabaseUrl(), entities: OAUTH_ENTITIES, migrations: OAUTH_MIGRATIONS, extra: { max: testPoolSize() }, retryAttempts: 0 }),
        OAuthCoreModule.forRoot({ issuer: 'https://auth.example.com/t1' }),
        RegistrationModule.forRootAsync({ path: 'connect/register', useFactory: async () => ({ rateLimit: { perAddress: 0 } }) }),
        RevocationModule.forRoot(),
      ],
      controllers: [EchoController],
    })
    class RegistrationHostModule {}
    app = await NestFactory.create(RegistrationHostModule, { logger: false });
    app.setGlobalPrefix('t1');
    await app.listen(0, '127.0.0.1');
    http = request(app.getHttpServer());
    pool = openTestPool();
  });
  afterAll(async () => {
    await pool.end();
    await app.close();
  });

  it('registers from the body the host parsed, and stores the client', async () => {
    const res = await http.post('/t1/connect/register').send(client);
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const { rows } = await pool.query('SELECT redirect_uris, registered_at FROM clients WHERE client_id = $1', [res.body.client_id]);
    expect(rows[0]).toEqual({ redirect_uris: ['https://app.example.org/cb'], registered_at: expect.any(Date) });
  });

  it.each([
    ['malformed JSON', '{"client_uri":', 'The request body is not valid JSON; send one JSON object.'],
    ['a JSON string (the host parser is strict)', '"x"', 'The request body is not valid JSON; send one JSON object.'],
    ['over the host parser limit (100 KB)', JSON.stringify({ ...client, client_name: 'x'.repeat(150_000) }), 'The request body is larger than 16384 bytes.'],
    ['over 16 KiB, within the host parser limit', JSON.stringify({ ...client, client_name: 'x'.repeat(20_000) }), 'The request body is larger than 16384 bytes.'],
    ['an array', '[]', 'The request body must be a JSON object.'],
  ])('answers %s with 400 invalid_client_metadata, not the host format', async (_name, body, description) => {
    const res = await http.post('/t1/connect/register').set('Content-Type', 'application/json').send(body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_client_metadata', error_description: description });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['access-control-allow-origin']).toBe('*');
  });

  it('leaves the host its own format for its own routes, and the form endpoints theirs', async () => {
    const own = await http.post('/t1/api/echo').set('Content-Type', 'application/json').send('{"a":');
    expect(own.status).toBe(400);
    expect(own.body).toMatchObject({ statusCode: 400 });
    const revoke = await http.post('/t1/oauth2/revoke').type('form').send(`token=${'x'.repeat(150_000)}`);
    expect(revoke.status).toBe(413);
    expect(revoke.body).toEqual({ error: 'invalid_request', error_description: 'The request body is larger than 16384 bytes.' });
  });
});
