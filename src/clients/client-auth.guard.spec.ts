import { Logger } from '@nestjs/common';
import type { ExecutionContext } from '@nestjs/common';
import { OAuthException } from '../http/oauth.exception';
import { AuthFailureLimiter } from './auth-failure-limiter';
import { CLIENT_KEY, RequestWithClient } from './authenticated-client';
import { ClientAuthGuard } from './client-auth.guard';
import { DUMMY_SECRET_HASH, hashClientSecret } from './client-secret';
import { MemoryAuthFailureStore } from './memory-auth-failure-store';
import type { ClientCredentialsRecord, ClientsService } from './clients.service';

const SECRET = 'the-right-secret';
const CLIENTS: Record<string, ClientCredentialsRecord> = {
  web: { clientId: 'web', tokenEndpointAuthMethod: 'client_secret_basic', secretHash: hashClientSecret(SECRET), grantTypes: ['client_credentials'], disabled: false },
  app: { clientId: 'app', tokenEndpointAuthMethod: 'none', secretHash: null, grantTypes: ['refresh_token'], disabled: false },
  off: { clientId: 'off', tokenEndpointAuthMethod: 'client_secret_post', secretHash: hashClientSecret(SECRET), grantTypes: [], disabled: true },
};

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

describe('ClientAuthGuard (RFC 6749 §2.3)', () => {
  const lookups: string[] = [];
  const clients = { findCredentials: async (id: string) => (lookups.push(id), CLIENTS[id] ?? null) } as unknown as ClientsService;
  const limits = { perClientAddress: 0, perAddress: 0, perClient: 0, windowSeconds: 60 };
  const options = { issuer: 'https://auth.example.com', authFailureLimits: limits, authFailureStore: 'memory' as const, authFailureMemoryBytes: 1 << 20, cache: { ttlSeconds: 0, maxEntries: 1 } };
  const guard = new ClientAuthGuard(clients, options, new AuthFailureLimiter(limits, new MemoryAuthFailureStore()));

  /** Runs the guard on a request with this form (already read) and Authorization header. */
  async function authenticate(form: Record<string, string>, authorization?: string): Promise<RequestWithClient> {
    const req = {
      method: 'POST',
      url: '/oauth2/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization ? { authorization } : {}) },
      body: form,
      socket: { remoteAddress: '192.0.2.1' },
    } as unknown as RequestWithClient;
    const ctx = { switchToHttp: () => ({ getRequest: () => req }) } as unknown as ExecutionContext;
    expect(await guard.canActivate(ctx)).toBe(true);
    return req;
  }
  const refusal = (form: Record<string, string>, authorization?: string) =>
    authenticate(form, authorization).then(
      () => 'accepted',
      (err: OAuthException) => ({ status: err.getStatus(), error: err.error, description: err.description, headers: err.headers }),
    );

  beforeEach(() => (lookups.length = 0));

  it('lets a request that names no client through as anonymous, without a lookup', async () => {
    expect((await authenticate({ token: 't' }))[CLIENT_KEY]).toBeNull();
    expect(lookups).toEqual([]);
  });

  it('authenticates client_secret_basic, form-decoding the id and secret', async () => {
    expect((await authenticate({}, basic('web', SECRET)))[CLIENT_KEY]).toEqual({ clientId: 'web', method: 'client_secret_basic', confidential: true, grantTypes: ['client_credentials'] });
  });

  it('authenticates client_secret_post, and a public client by its client_id alone', async () => {
    expect((await authenticate({ client_id: 'web', client_secret: SECRET }))[CLIENT_KEY]).toMatchObject({ clientId: 'web', method: 'client_secret_post', confidential: true });
    expect((await authenticate({ client_id: 'app' }))[CLIENT_KEY]).toEqual({ clientId: 'app', method: 'none', confidential: false, grantTypes: ['refresh_token'] });
  });

  it('refuses two methods in one request, and a body client_id that differs from the header', async () => {
    expect(await refusal({ client_secret: SECRET }, basic('web', SECRET))).toMatchObject({ status: 400, error: 'invalid_request' });
    expect(await refusal({ client_id: 'app' }, basic('web', SECRET))).toMatchObject({ status: 400, error: 'invalid_request' });
    expect(await refusal({ client_secret: SECRET })).toMatchObject({ status: 400, error: 'invalid_request', description: 'client_secret was sent without client_id.' });
  });

  it('answers a wrong secret, an unknown client and a disabled one alike, with a Basic challenge when the header was used', async () => {
    const challenge = { 'WWW-Authenticate': 'Basic realm="https://auth.example.com"' };
    expect(await refusal({}, basic('web', 'wrong'))).toEqual({ status: 401, error: 'invalid_client', description: 'Client authentication failed.', headers: challenge });
    expect(await refusal({}, basic('nosuch', SECRET))).toEqual({ status: 401, error: 'invalid_client', description: 'Client authentication failed.', headers: challenge });
    expect(await refusal({ client_id: 'off', client_secret: SECRET })).toEqual({ status: 401, error: 'invalid_client', description: 'Client authentication failed.', headers: {} });
  });

  it('refuses a secret for a public client, and a confidential client without its secret', async () => {
    expect(await refusal({ client_id: 'app', client_secret: 'x' })).toMatchObject({ status: 401, error: 'invalid_client' });
    expect(await refusal({ client_id: 'web' })).toMatchObject({ status: 401, error: 'invalid_client' });
  });

  it('tells a malformed Basic header from another scheme', async () => {
    expect(await refusal({}, 'Basic !!!')).toMatchObject({ status: 401, error: 'invalid_client', description: 'The Basic Authorization header is malformed.' });
    expect(await refusal({}, `Basic ${Buffer.from('no-colon').toString('base64')}`)).toMatchObject({ status: 401, error: 'invalid_client' });
    expect(await refusal({}, 'Bearer abc')).toMatchObject({ status: 400, error: 'invalid_request' });
  });

  it.each([
    ['an unknown client id', { client_id: 'nosuch', client_secret: 'guess' }, DUMMY_SECRET_HASH],
    ['an id no client can have', { client_id: 'x'.repeat(300), client_secret: 'guess' }, DUMMY_SECRET_HASH],
    ['a disabled client', { client_id: 'off', client_secret: 'guess' }, DUMMY_SECRET_HASH],
    ['a public client', { client_id: 'app', client_secret: 'guess' }, DUMMY_SECRET_HASH],
    ['a known client with a wrong secret', { client_id: 'web', client_secret: 'guess' }, CLIENTS.web.secretHash],
  ])('compares the secret of %s against a hash once, a dummy one when there is none: the same work either way', async (_name, form, hash) => {
    const verify = jest.spyOn(guard as unknown as { verifySecret(s: string, h: string | null): boolean }, 'verifySecret');
    expect(await refusal(form)).toMatchObject({ status: 401, error: 'invalid_client', description: 'Client authentication failed.' });
    expect(verify).toHaveBeenCalledTimes(1);
    expect(verify).toHaveBeenCalledWith('guess', hash);
    verify.mockRestore();
  });

  it('gives a confidential client without its secret the description an unknown client gets', async () => {
    expect(await refusal({ client_id: 'web' })).toEqual(await refusal({ client_id: 'nosuch' }));
  });

  it('answers 503 temporarily_unavailable, never an unchecked 200 or 401, when the limiter cannot reach its store, and logs why', async () => {
    const warned = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const store = new MemoryAuthFailureStore();
    store.begin = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' }));
    const down = new ClientAuthGuard(clients, options, new AuthFailureLimiter({ ...limits, perClientAddress: 10 }, store));
    const req = { method: 'POST', url: '/oauth2/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: { client_id: 'web', client_secret: SECRET }, socket: {} };
    const ctx = { switchToHttp: () => ({ getRequest: () => req }) } as unknown as ExecutionContext;
    try {
      await expect(down.canActivate(ctx)).rejects.toMatchObject({ error: 'temporarily_unavailable', status: 503 });
      expect(warned).toHaveBeenCalledWith('Brute-force limiter store unavailable (ECONNREFUSED): connect ECONNREFUSED 127.0.0.1:6379');
      expect(JSON.stringify(warned.mock.calls)).not.toContain(SECRET);
    } finally {
      warned.mockRestore();
    }
  });
});
