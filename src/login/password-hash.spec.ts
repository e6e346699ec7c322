import { hashPassword, OWASP_SCRYPT, verifyPassword } from './password-hash';

// Low cost for the format checks; one hash at the OWASP parameters proves they run (maxmem raised).
const FAST = { ln: 4, r: 8, p: 1 };

describe('password hashing (scrypt, node:crypto)', () => {
  it('hashes at the OWASP parameters by default in a self-describing format, and verifies', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(OWASP_SCRYPT).toEqual({ ln: 17, r: 8, p: 1 });
    expect(hash).toMatch(/^scrypt\$ln=17,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    await expect(verifyPassword('correct horse battery staple', hash)).resolves.toBe(true);
    await expect(verifyPassword('correct horse battery stapler', hash)).resolves.toBe(false);
  });

  it('salts every hash: the same password hashes differently', async () => {
    expect(await hashPassword('same password', FAST)).not.toBe(await hashPassword('same password', FAST));
  });

  it('verifies with the parameters stored in the hash, so they can be raised later', async () => {
    const weak = await hashPassword('pw-123456', FAST);
    expect(weak.startsWith('scrypt$ln=4,r=8,p=1$')).toBe(true);
    await expect(verifyPassword('pw-123456', weak)).resolves.toBe(true);
  });

  it('treats Unicode compositions of the same password alike (NFKC)', async () => {
    const hash = await hashPassword('caf\u00e9-password', FAST);
    await expect(verifyPassword('cafe\u0301-password', hash)).resolves.toBe(true);
  });

  it.each([
    ['another format', 'sha256$abc'],
    ['empty', ''],
    ['a cost past the bound (memory exhaustion)', 'scrypt$ln=30,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['r past the bound', 'scrypt$ln=4,r=99,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
  ])('answers false, never throws, for a stored value that is %s', async (_what, stored) => {
    await expect(verifyPassword('anything', stored)).resolves.toBe(false);
  });
});
