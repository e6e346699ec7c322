import { generateClientSecret, hashClientSecret, verifyClientSecret } from './client-secret';

describe('client secrets', () => {
  it('generates secrets with 256 bits of randomness', () => {
    const secret = generateClientSecret();
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    expect(generateClientSecret()).not.toBe(secret);
  });

  it('stores only a hash that does not contain the secret', () => {
    const secret = generateClientSecret();
    const hash = hashClientSecret(secret);
    expect(hash).toMatch(/^sha256\$/);
    expect(hash).not.toContain(secret);
  });

  it('verifies the right secret and rejects a wrong one', () => {
    const secret = generateClientSecret();
    const hash = hashClientSecret(secret);
    expect(verifyClientSecret(secret, hash)).toBe(true);
    expect(verifyClientSecret(secret + 'x', hash)).toBe(false);
    expect(verifyClientSecret('', hash)).toBe(false);
  });

  it('rejects when no hash is stored or the hash has an unknown scheme', () => {
    expect(verifyClientSecret('anything', null)).toBe(false);
    expect(verifyClientSecret('anything', 'md5$abc')).toBe(false);
    expect(verifyClientSecret('anything', 'sha256$short')).toBe(false);
  });
});
