import { Fixtures } from './support/fixtures';
import { startTestServer } from './support/test-app';
import { form } from './support/token-fixtures';

const WELL_KNOWN = '/.well-known/oauth-authorization-server';

describe('discovery: what the token endpoint and introspection contribute (host app)', () => {
  it('lists token_endpoint with its auth methods and grant types, and introspection_endpoint with its auth methods', async () => {
    const server = await startTestServer({ ISSUER: 'https://auth.example.com' });
    try {
      const document = await (await fetch(`${server.url}${WELL_KNOWN}`)).json();
      expect(document).toEqual({
        issuer: 'https://auth.example.com',
        // The account page (MSC4191): the final action names and the MSC2965 ones clients still send.
        account_management_uri: 'https://auth.example.com/account',
        account_management_actions_supported: [
          'org.matrix.sessions_list',
          'org.matrix.devices_list',
          'org.matrix.session_view',
          'org.matrix.device_view',
          'org.matrix.session_end',
          'org.matrix.device_delete',
          'org.matrix.account_deactivate',
        ],
        authorization_endpoint: 'https://auth.example.com/oauth2/authorize',
        authorization_response_iss_parameter_supported: true,
        code_challenge_methods_supported: ['S256'],
        device_authorization_endpoint: 'https://auth.example.com/oauth2/device',
        grant_types_supported: ['authorization_code', 'client_credentials', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
        introspection_endpoint: 'https://auth.example.com/oauth2/introspect',
        // Only confidential clients may introspect: no `none`.
        introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        registration_endpoint: 'https://auth.example.com/oauth2/register',
        response_modes_supported: ['query', 'fragment'],
        response_types_supported: ['code'],
        revocation_endpoint: 'https://auth.example.com/oauth2/revoke',
        revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
        token_endpoint: 'https://auth.example.com/oauth2/token',
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      });
    } finally {
      await server.close();
    }
  });

  it('follows TOKEN_PATH and INTROSPECTION_PATH, and an issuer with a path, and the endpoints answer where the document says', async () => {
    const issuer = 'https://auth.example.com/tenant1';
    const server = await startTestServer({ ISSUER: issuer, TOKEN_PATH: 'v2/token', INTROSPECTION_PATH: '/v2/introspect/' });
    try {
      const document = (await (await fetch(`${server.url}${WELL_KNOWN}/tenant1`)).json()) as Record<string, string>;
      expect(document).toMatchObject({ token_endpoint: `${issuer}/v2/token`, introspection_endpoint: `${issuer}/v2/introspect` });
      const c = await new Fixtures(server.app, server.pool).client('client_secret_post');
      const credentials = { client_id: c.client_id, client_secret: c.client_secret };
      const post = (url: string, params: Record<string, string | undefined>) =>
        fetch(`${server.url}${new URL(url).pathname}`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form(params) });
      const issued = await post(document.token_endpoint, { grant_type: 'client_credentials', ...credentials });
      expect(issued.status).toBe(200);
      expect(issued.headers.get('cache-control')).toBe('no-store');
      const { access_token } = (await issued.json()) as { access_token: string };
      const introspected = await post(document.introspection_endpoint, { token: access_token, ...credentials });
      expect(await introspected.json()).toMatchObject({ active: true, client_id: c.client_id });
      const grants = await server.pool.query('SELECT count(*)::int AS n FROM grants WHERE client_id = $1', [c.client_id]);
      expect(grants.rows[0].n).toBe(1);
    } finally {
      await server.close();
    }
  });
});
