import { ClientMetadataError, validateClientMetadata } from './client-metadata';

const open = { confidentialClients: false };
const refusal = (body: Record<string, unknown>, policy = open) => {
  try {
    validateClientMetadata(body, policy);
  } catch (err) {
    if (err instanceof ClientMetadataError) return `${err.error}: ${err.description}`;
    throw err;
  }
  return 'accepted';
};

describe('validateClientMetadata (RFC 7591 §2, Matrix client registration, RFC 8252 §7)', () => {
  const native = { client_uri: 'https://client.example.org/', application_type: 'native' };

  it('fills the defaults and keeps what it understands, as registered', () => {
    expect(validateClientMetadata({ client_uri: 'https://Client.Example.org', redirect_uris: ['https://client.example.org/cb', 'https://client.example.org/cb'], client_name: 'C' }, open)).toEqual({
      tokenEndpointAuthMethod: 'none',
      applicationType: 'web',
      redirectUris: ['https://client.example.org/cb'],
      responseTypes: ['code'],
      grantTypes: ['authorization_code', 'refresh_token'],
      metadata: { client_uri: 'https://Client.Example.org', client_name: 'C' },
    });
  });

  it('checks client_uri before anything else, so that every message about hosts has a host to compare with', () => {
    expect(refusal({ redirect_uris: 42 })).toBe('invalid_client_metadata: client_uri is required: the https URL of the client home page.');
  });

  it('takes a private-use scheme for the client_uri host or a name under it, in reverse order, without authority', () => {
    for (const uri of ['org.example.client:/cb', 'org.example:/cb', 'org.example.client.beta:cb', 'ORG.EXAMPLE.CLIENT:/cb']) {
      expect([uri, refusal({ ...native, client_uri: 'https://example.org/', redirect_uris: [uri] })]).toEqual([uri, 'accepted']);
    }
    expect(refusal({ ...native, redirect_uris: ['org.example:/cb'] })).toMatch(/^invalid_redirect_uri: redirect_uris\[0\] must use a private-use scheme/);
  });

  it('names the first offending redirect URI by its index, and never echoes its value', () => {
    const description = refusal({ ...native, redirect_uris: ['http://127.0.0.1/ok', 'http://127.0.0.1:1234/"<script>'] });
    expect(description).toMatch(/^invalid_redirect_uri: redirect_uris\[1\] /);
    expect(description).not.toContain('script');
  });

  it('refuses a confidential method unless the policy allows it, and then defaults to client_secret_basic', () => {
    expect(refusal({ ...native, redirect_uris: ['http://[::1]/'], token_endpoint_auth_method: 'client_secret_post' })).toMatch(/must be none/);
    expect(validateClientMetadata({ ...native, redirect_uris: ['http://[::1]/'] }, { confidentialClients: true }).tokenEndpointAuthMethod).toBe('client_secret_basic');
  });
});
