import { DiscoveryConfigError } from './discovery-config.error';
import { InvalidIssuerError } from './issuer';
import { buildMetadataDocument, checkSigningAlgorithms, MetadataContribution, withoutEmptyValues } from './metadata-document';

const ISSUER = 'https://auth.example.com/tenant1';
const revocation: MetadataContribution = {
  source: 'RevocationMetadataContributor',
  fields: {
    revocation_endpoint: `${ISSUER}/oauth2/revoke`,
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
  },
};
const token: MetadataContribution = {
  source: 'TokenMetadataContributor',
  fields: { token_endpoint: `${ISSUER}/oauth2/token`, grant_types_supported: ['refresh_token'] },
};

describe('buildMetadataDocument', () => {
  it('merges the issuer, every contribution and the host fields into one document', () => {
    const document = buildMetadataDocument(ISSUER, [revocation, token], {
      authorization_endpoint: 'https://login.example.com/authorize',
      response_types_supported: ['code'],
      service_documentation: 'https://docs.example.com/oauth',
    });
    expect(document).toEqual({
      issuer: ISSUER,
      ...revocation.fields,
      ...token.fields,
      authorization_endpoint: 'https://login.example.com/authorize',
      response_types_supported: ['code'],
      service_documentation: 'https://docs.example.com/oauth',
    });
  });

  it('puts issuer first and the other fields in name order, whatever order the sources come in', () => {
    const one = buildMetadataDocument(ISSUER, [token, revocation], { scopes_supported: ['openid'] });
    const other = buildMetadataDocument(ISSUER, [revocation, token], { scopes_supported: ['openid'] });
    expect(Object.keys(one)).toEqual([
      'issuer',
      'grant_types_supported',
      'revocation_endpoint',
      'revocation_endpoint_auth_methods_supported',
      'scopes_supported',
      'token_endpoint',
    ]);
    expect(JSON.stringify(one)).toBe(JSON.stringify(other));
  });

  it('returns a deeply frozen document without freezing the arrays the contributors gave', () => {
    const methods = ['none'];
    const document = buildMetadataDocument(ISSUER, [{ source: 'A', fields: { revocation_endpoint_auth_methods_supported: methods } }], {});
    expect(Object.isFrozen(document)).toBe(true);
    expect(Object.isFrozen(document.revocation_endpoint_auth_methods_supported)).toBe(true);
    expect(Object.isFrozen(methods)).toBe(false);
  });

  it('omits fields whose array has no elements (RFC 8414 §3.2), from contributors and host alike', () => {
    const document = buildMetadataDocument(ISSUER, [{ source: 'A', fields: { scopes_supported: [] } }], { ui_locales_supported: [], op_policy_uri: undefined });
    expect(document).toEqual({ issuer: ISSUER });
  });

  it('fails naming the field and both contributors when two contributors produce the same field', () => {
    const twin = { source: 'OtherRevocationContributor', fields: { revocation_endpoint: `${ISSUER}/revoke` } };
    expect(() => buildMetadataDocument(ISSUER, [revocation, twin], {})).toThrow(
      'Authorization server metadata field "revocation_endpoint" is produced by both RevocationMetadataContributor and OtherRevocationContributor',
    );
  });

  it('merges a list field several contributors produce, each value once, in the order first seen', () => {
    const device = { source: 'DeviceFlowMetadata', fields: { grant_types_supported: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'] } };
    const document = buildMetadataDocument(ISSUER, [token, device], {});
    expect(document.grant_types_supported).toEqual(['refresh_token', 'urn:ietf:params:oauth:grant-type:device_code']);
  });

  it('lets the host add values to a list field a module computed', () => {
    const document = buildMetadataDocument(ISSUER, [token], { grant_types_supported: ['authorization_code', 'refresh_token'] });
    expect(document.grant_types_supported).toEqual(['refresh_token', 'authorization_code']);
  });

  it("keeps an endpoint's client authentication list to the module that serves the endpoint", () => {
    const other = { source: 'Other', fields: { revocation_endpoint_auth_methods_supported: ['private_key_jwt'] } };
    expect(() => buildMetadataDocument(ISSUER, [revocation, other], {})).toThrow(/"revocation_endpoint_auth_methods_supported" is produced by both/);
    expect(() => buildMetadataDocument(ISSUER, [revocation], { revocation_endpoint_auth_methods_supported: ['none'] })).toThrow(
      /metadata\.revocation_endpoint_auth_methods_supported cannot overwrite/,
    );
  });

  it('still fails when one source gives a list and another a scalar for the same field', () => {
    const odd = { source: 'Odd', fields: { grant_types_supported: 'refresh_token' } };
    expect(() => buildMetadataDocument(ISSUER, [token, odd], {})).toThrow(/"grant_types_supported" is produced by both/);
  });

  it('fails naming the field when the host fields would overwrite a field a module computed', () => {
    expect(() => buildMetadataDocument(ISSUER, [revocation], { revocation_endpoint: 'https://elsewhere.example.com/revoke' })).toThrow(
      /DiscoveryModule option metadata\.revocation_endpoint cannot overwrite the field "revocation_endpoint" computed by RevocationMetadataContributor/,
    );
  });

  it('fails when the host fields or a contributor set issuer, which comes from the core options', () => {
    expect(() => buildMetadataDocument(ISSUER, [], { issuer: 'https://other.example.com' })).toThrow(/metadata\.issuer cannot overwrite the field "issuer"/);
    expect(() => buildMetadataDocument(ISSUER, [{ source: 'Sneaky', fields: { issuer: ISSUER } }], {})).toThrow(/"issuer" is produced by both the issuer .* and Sneaky/);
  });

  it('fails on an issuer RFC 8414 does not allow', () => {
    expect(() => buildMetadataDocument('http://auth.example.com', [], {})).toThrow(InvalidIssuerError);
  });

  it('fails when a contributor returns something other than a plain object', () => {
    expect(() => buildMetadataDocument(ISSUER, [{ source: 'Broken', fields: ['x'] as unknown as Record<string, unknown> }], {})).toThrow(
      'Broken.metadata() must return a plain object of metadata fields',
    );
  });

  it.each([
    ['scopes_supported', 'openid'],
    ['scopes_supported', ['openid', 42]],
    ['response_types_supported', ['']],
  ])('fails when the list %s is %j instead of an array of strings', (name, value) => {
    expect(() => buildMetadataDocument(ISSUER, [], { [name]: value })).toThrow(`field "${name}" must be an array of strings`);
  });

  it.each([
    ['authorization_endpoint', '/authorize'],
    ['authorization_endpoint', 'http://login.example.com/authorize'],
    ['token_endpoint', 'https://auth.example.com/token#frag'],
    ['jwks_uri', 42],
  ])('fails when the endpoint %s is %j instead of an absolute https URL without a fragment', (name, value) => {
    expect(() => buildMetadataDocument(ISSUER, [], { [name]: value })).toThrow(new RegExp(`field "${name}" must be an absolute https URL`));
  });

  it('accepts http endpoints next to a loopback http issuer, for development', () => {
    const document = buildMetadataDocument('http://localhost:3000', [], { authorization_endpoint: 'http://localhost:3000/authorize' });
    expect(document.authorization_endpoint).toBe('http://localhost:3000/authorize');
  });

  it('throws DiscoveryConfigError for every rule, so hosts can tell configuration mistakes apart', () => {
    expect(() => buildMetadataDocument(ISSUER, [], { scopes_supported: 'x' })).toThrow(DiscoveryConfigError);
  });
});

describe('withoutEmptyValues', () => {
  it('drops empty arrays, undefined and null, and keeps everything else', () => {
    expect(withoutEmptyValues({ a: [], b: undefined, c: null, d: ['x'], e: '', f: false, g: 0 })).toEqual({ d: ['x'], e: '', f: false, g: 0 });
  });
});

describe('checkSigningAlgorithms (RFC 8414 §2)', () => {
  it.each(['private_key_jwt', 'client_secret_jwt'])('requires the matching signing algorithm list when %s is supported', (method) => {
    expect(() => checkSigningAlgorithms({ token_endpoint_auth_methods_supported: ['client_secret_basic', method] })).toThrow(
      `"token_endpoint_auth_methods_supported" lists ${method}, so "token_endpoint_auth_signing_alg_values_supported" must be present`,
    );
    expect(() =>
      checkSigningAlgorithms({ token_endpoint_auth_methods_supported: [method], token_endpoint_auth_signing_alg_values_supported: ['ES256'] }),
    ).not.toThrow();
  });

  it('applies the same rule to every *_auth_methods_supported list (revocation, introspection)', () => {
    expect(() => checkSigningAlgorithms({ revocation_endpoint_auth_methods_supported: ['private_key_jwt'] })).toThrow(
      '"revocation_endpoint_auth_signing_alg_values_supported" must be present',
    );
    expect(() =>
      checkSigningAlgorithms({
        introspection_endpoint_auth_methods_supported: ['private_key_jwt'],
        token_endpoint_auth_signing_alg_values_supported: ['ES256'],
      }),
    ).toThrow('"introspection_endpoint_auth_signing_alg_values_supported" must be present');
  });

  it('refuses "none" in a signing algorithm list', () => {
    expect(() =>
      checkSigningAlgorithms({
        token_endpoint_auth_methods_supported: ['private_key_jwt'],
        token_endpoint_auth_signing_alg_values_supported: ['RS256', 'none'],
      }),
    ).toThrow('"token_endpoint_auth_signing_alg_values_supported" must not contain "none"');
  });

  it('needs no algorithm list when no JWT method is supported', () => {
    expect(() => checkSigningAlgorithms({ revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'] })).not.toThrow();
  });

  it('counts an empty algorithm list as missing, since the document leaves it out', () => {
    expect(() =>
      buildMetadataDocument(ISSUER, [], {
        token_endpoint_auth_methods_supported: ['private_key_jwt'],
        token_endpoint_auth_signing_alg_values_supported: [],
      }),
    ).toThrow('"token_endpoint_auth_signing_alg_values_supported" must be present');
  });
});
