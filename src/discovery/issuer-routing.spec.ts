import { InvalidIssuerError } from './issuer';
import { issuerRouting } from './issuer-routing';

describe('issuerRouting (host routes under the issuer path)', () => {
  it('is undefined for an issuer without a path: routes stay at the root', () => {
    expect(issuerRouting('https://auth.example.com')).toBeUndefined();
    expect(issuerRouting('https://auth.example.com/')).toBeUndefined();
  });

  it('prefixes routes with the issuer path and keeps the RFC 8414 and Matrix discovery routes at the root', () => {
    expect(issuerRouting('https://auth.example.com/tenant1/')).toEqual({
      prefix: 'tenant1',
      exclude: ['.well-known/oauth-authorization-server', '.well-known/oauth-authorization-server/*issuerPath', '_matrix/client/v1/auth_metadata'],
    });
  });

  it('keeps every segment of a longer path', () => {
    expect(issuerRouting('https://auth.example.com/org/tenant-1')?.prefix).toBe('org/tenant-1');
  });

  it.each(['https://auth.example.com/t:id', 'https://auth.example.com/a*b', 'https://auth.example.com/(x)'])(
    'refuses %s, whose path would mean something to the route syntax',
    (issuer) => {
      expect(() => issuerRouting(issuer)).toThrow(InvalidIssuerError);
      expect(() => issuerRouting(issuer)).toThrow(/cannot be a route prefix/);
    },
  );
});
