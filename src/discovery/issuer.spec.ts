import { InvalidIssuerError, issuerPath, validateIssuer } from './issuer';

describe('validateIssuer (RFC 8414 §2)', () => {
  it.each([
    'https://auth.example.com',
    'https://auth.example.com/tenant1',
    'https://auth.example.com:8443/a/b',
    'http://localhost:3000',
    'http://127.0.0.1:8080',
    'http://[::1]:3000',
    'http://localhost',
  ])('accepts %s', (issuer) => {
    expect(validateIssuer(issuer).href.replace(/\/$/, '')).toBe(issuer);
  });

  it('accepts a trailing slash, which is not part of the identifier', () => {
    expect(validateIssuer('https://auth.example.com/tenant1/').pathname).toBe('/tenant1');
  });

  it.each([
    ['http://auth.example.com', /must use https; plain http is accepted only for localhost, 127\.0\.0\.1 and \[::1\]/],
    ['http://127.0.0.2', /must use https/],
    ['http://localhost.example.com', /must use https/],
    ['ftp://auth.example.com', /must use the https scheme/],
    ['auth.example.com', /must be an absolute URL/],
    ['/tenant1', /must be an absolute URL/],
    ['', /must be an absolute URL/],
    ['https://auth.example.com?tenant=1', /must not have a query component/],
    ['https://auth.example.com/?', /must not have a query component/],
    ['https://auth.example.com#top', /must not have a fragment component/],
    ['https://auth.example.com/tenant1#', /must not have a fragment component/],
    ['https://user:pw@auth.example.com', /must not contain a user name or password/],
    ['https://Auth.Example.com', /canonical form: https:\/\/auth\.example\.com$/],
    ['https://auth.example.com:443', /canonical form: https:\/\/auth\.example\.com$/],
    ['https:auth.example.com', /canonical form: https:\/\/auth\.example\.com$/],
    [' https://auth.example.com', /canonical form/],
  ])('refuses %j with a message naming the issuer and the rule', (issuer, reason) => {
    let error: unknown;
    try {
      validateIssuer(issuer);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidIssuerError);
    expect((error as InvalidIssuerError).message).toContain(`Invalid issuer ${JSON.stringify(issuer)}: `);
    expect((error as InvalidIssuerError).reason).toMatch(reason);
  });
});

describe('issuerPath', () => {
  it.each([
    ['https://auth.example.com', ''],
    ['https://auth.example.com/', ''],
    ['https://auth.example.com/tenant1', '/tenant1'],
    ['https://auth.example.com/tenant1/', '/tenant1'],
    ['https://auth.example.com/a/b', '/a/b'],
  ])('of %s is %j', (issuer, path) => {
    expect(issuerPath(issuer)).toBe(path);
  });
});
