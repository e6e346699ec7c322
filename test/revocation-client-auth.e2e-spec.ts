import request from 'supertest';
import { basic, Fixtures } from './support/fixtures';
import { startTestServer, TestServer, uniqueId } from './support/test-app';
import { ClientsService } from '../src/clients/clients.service';
import { hashClientSecret } from '../src/clients/client-secret';

describe('POST /oauth2/revoke: client authentication (RFC 6749 §2.3)', () => {
  let server: TestServer;
  let fx: Fixtures;
  let http: ReturnType<typeof request>;
  const REALM = 'Basic realm="http://localhost:3000"';

  beforeAll(async () => {
    server = await startTestServer();
    fx = new Fixtures(server.app, server.pool);
    http = request(server.app.getHttpServer());
  });
  afterAll(() => server.close());

  const revoke = (body: string, auth?: string) => {
    const req = http.post('/oauth2/revoke').type('form');
    if (auth !== undefined) req.set('Authorization', auth);
    return req.send(body);
  };

  /** A confidential client whose secret needs form-url-encoding in a Basic header. */
  async function clientWithAwkwardSecret(): Promise<{ id: string; secret: string }> {
    const id = uniqueId('awk:ward');
    const secret = 'p%ss+w:rd with space/and=equals';
    await server.app.get(ClientsService).create({ clientId: id, authMethod: 'client_secret_basic' });
    await server.pool.query('UPDATE clients SET secret_hash = $2 WHERE client_id = $1', [id, hashClientSecret(secret)]);
    return { id, secret };
  }

  it('client_secret_basic: authenticates with the header and revokes the own token as client_request', async () => {
    const c = await fx.client('client_secret_basic');
    const login = await fx.login(c.client_id);
    const res = await revoke(`token=${login.access_token}`, basic(c.client_id, c.client_secret!));
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    expect(await fx.auditRows(login.grant_id)).toEqual([{ reason: 'client_request', token_type: 'access_token', revoking_client_id: c.client_id, client_id: c.client_id }]);
  });

  it('client_secret_basic: form-url-decodes id and secret after base64 (secret with %, +, : and a space)', async () => {
    const c = await clientWithAwkwardSecret();
    const login = await fx.login(c.id);
    const res = await revoke(`token=${login.refresh_token}`, basic(c.id, c.secret));
    expect(res.status).toBe(200);
    expect((await fx.auditRows(login.grant_id))[0]).toMatchObject({ reason: 'client_request', revoking_client_id: c.id });
  });

  it('client_secret_basic: the same secret sent without form-encoding fails (the + would mean a space)', async () => {
    const c = await clientWithAwkwardSecret();
    const raw = 'Basic ' + Buffer.from(`${c.id}:${c.secret.replace(/ /g, '+')}`).toString('base64');
    const res = await revoke('token=x', raw);
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });

  it('client_secret_post: authenticates with client_id and client_secret in the body', async () => {
    const c = await fx.client('client_secret_post');
    const login = await fx.login(c.client_id);
    const res = await revoke(`token=${login.access_token}&client_id=${c.client_id}&client_secret=${encodeURIComponent(c.client_secret!)}`);
    expect(res.status).toBe(200);
    expect((await fx.auditRows(login.grant_id))[0]).toMatchObject({ reason: 'client_request', revoking_client_id: c.client_id });
  });

  it('a confidential client may use either secret method', async () => {
    const basicClient = await fx.client('client_secret_basic');
    const postClient = await fx.client('client_secret_post');
    const a = await fx.login(basicClient.client_id);
    const b = await fx.login(postClient.client_id);
    expect((await revoke(`token=${a.access_token}&client_id=${basicClient.client_id}&client_secret=${encodeURIComponent(basicClient.client_secret!)}`)).status).toBe(200);
    expect((await revoke(`token=${b.access_token}`, basic(postClient.client_id, postClient.client_secret!))).status).toBe(200);
    expect((await fx.auditRows(a.grant_id))[0].reason).toBe('client_request');
    expect((await fx.auditRows(b.grant_id))[0].reason).toBe('client_request');
  });

  it('none: a public client identifies itself with client_id only', async () => {
    const c = await fx.client('none');
    const login = await fx.login(c.client_id);
    const res = await revoke(`token=${login.access_token}&client_id=${c.client_id}`);
    expect(res.status).toBe(200);
    expect((await fx.auditRows(login.grant_id))[0]).toMatchObject({ reason: 'client_request', revoking_client_id: c.client_id });
  });

  it('answers 400 invalid_request for a Basic header and client_secret in the body, and revokes nothing', async () => {
    const c = await fx.client('client_secret_basic');
    const login = await fx.login(c.client_id);
    const res = await revoke(`token=${login.access_token}&client_secret=${encodeURIComponent(c.client_secret!)}`, basic(c.client_id, c.client_secret!));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect((await fx.grantState(login.grant_id)).grantRevoked).toBe(false);
  });

  it('answers 400 invalid_request when the body client_id differs from the Basic one', async () => {
    const c = await fx.client('client_secret_basic');
    const login = await fx.login(c.client_id);
    const res = await revoke(`token=${login.access_token}&client_id=someone-else`, basic(c.client_id, c.client_secret!));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect((await fx.grantState(login.grant_id)).grantRevoked).toBe(false);
  });

  it('accepts a body client_id equal to the Basic one', async () => {
    const c = await fx.client('client_secret_basic');
    const login = await fx.login(c.client_id);
    expect((await revoke(`token=${login.access_token}&client_id=${c.client_id}`, basic(c.client_id, c.client_secret!))).status).toBe(200);
  });

  describe('401 invalid_client, nothing revoked', () => {
    const cases: Array<[string, () => Promise<{ auth?: string; body: string; viaHeader: boolean }>]> = [
      ['an unknown client (Basic)', async () => ({ auth: basic('nobody-' + uniqueId('x'), 'secret'), body: '', viaHeader: true })],
      ['an unknown client (client_id only)', async () => ({ body: `client_id=${uniqueId('nobody')}`, viaHeader: false })],
      ['a wrong secret (Basic)', async () => {
        const c = await fx.client('client_secret_basic');
        return { auth: basic(c.client_id, c.client_secret + 'x'), body: '', viaHeader: true };
      }],
      ['a wrong secret (post)', async () => {
        const c = await fx.client('client_secret_post');
        return { body: `client_id=${c.client_id}&client_secret=wrong`, viaHeader: false };
      }],
      ['a disabled client', async () => {
        const c = await fx.client('client_secret_basic');
        await server.app.get(ClientsService).disable(c.client_id);
        return { auth: basic(c.client_id, c.client_secret!), body: '', viaHeader: true };
      }],
      ['a confidential client sending no secret', async () => {
        const c = await fx.client('client_secret_basic');
        return { body: `client_id=${c.client_id}`, viaHeader: false };
      }],
      ['a public client sending a secret', async () => {
        const c = await fx.client('none');
        return { body: `client_id=${c.client_id}&client_secret=anything`, viaHeader: false };
      }],
      ['a malformed Basic header', async () => ({ auth: 'Basic !!!not-base64!!!', body: '', viaHeader: true })],
      ['Basic credentials without a colon', async () => ({ auth: 'Basic ' + Buffer.from('justanid').toString('base64'), body: '', viaHeader: true })],
    ];

    it.each(cases)('for %s', async (_name, make) => {
      const victim = await fx.login((await fx.client('none')).client_id);
      const { auth, body, viaHeader } = await make();
      const res = await revoke(`token=${victim.access_token}${body ? '&' + body : ''}`, auth);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'invalid_client', error_description: expect.any(String) });
      if (viaHeader) expect(res.headers['www-authenticate']).toBe(REALM);
      else expect(res.headers['www-authenticate']).toBeUndefined();
      expect(await fx.grantState(victim.grant_id)).toMatchObject({ grantRevoked: false, liveAccess: 1, liveRefresh: 1 });
    });
  });

  it('answers an unknown client and a confidential client without its secret alike: no oracle of which client ids exist', async () => {
    const c = await fx.client('client_secret_basic');
    const pub = await fx.client('none');
    const answers = await Promise.all([
      revoke(`token=x&client_id=${c.client_id}`),
      revoke(`token=x&client_id=${uniqueId('nosuch')}`),
      revoke(`token=x&client_id=${uniqueId('nosuch')}&client_secret=guess`),
      revoke(`token=x&client_id=${c.client_id}&client_secret=guess`),
      revoke(`token=x&client_id=${pub.client_id}&client_secret=guess`),
    ]);
    for (const res of answers) {
      expect(res.status).toBe(401);
      expect(res.body).toEqual(answers[0].body);
    }
  });

  it('never echoes the presented secret in an error', async () => {
    const c = await fx.client('client_secret_post');
    const secret = 'TOP-SECRET-' + uniqueId('s');
    const res = await revoke(`token=x&client_id=${c.client_id}&client_secret=${secret}`);
    expect(res.status).toBe(401);
    expect(res.text).not.toContain(secret);
  });

  it('answers 400 invalid_request for an Authorization scheme other than Basic', async () => {
    const res = await revoke('token=x', 'Bearer abc');
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it('allows a request with no client identification at all (anonymous revocation)', async () => {
    const login = await fx.login((await fx.client('none')).client_id);
    const res = await revoke(`token=${login.access_token}`);
    expect(res.status).toBe(200);
    expect((await fx.auditRows(login.grant_id))[0]).toMatchObject({ reason: 'anonymous_request', revoking_client_id: null });
  });
});
