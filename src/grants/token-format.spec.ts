import { generateToken, hashToken, isWellFormedToken, parseTokenKind, TOKEN_BODY_LENGTH, TOKEN_CHECKSUM_LENGTH } from './token-format';

describe('token format', () => {
  it('mints tokens as prefix, 32 base62 characters and a 6 character checksum', () => {
    const token = generateToken('oat_');
    expect(token).toMatch(/^oat_[0-9A-Za-z]{38}$/);
    expect(token.length).toBe(4 + TOKEN_BODY_LENGTH + TOKEN_CHECKSUM_LENGTH);
  });

  it('carries at least 160 bits of randomness in the body', () => {
    expect(TOKEN_BODY_LENGTH * Math.log2(62)).toBeGreaterThanOrEqual(160);
    const seen = new Set(Array.from({ length: 2000 }, () => generateToken('oat_')));
    expect(seen.size).toBe(2000);
  });

  it('uses every base62 character in the body (no biased alphabet)', () => {
    const chars = new Set(Array.from({ length: 200 }, () => generateToken('x1_').slice(3, 3 + TOKEN_BODY_LENGTH)).join(''));
    expect(chars.size).toBe(62);
  });

  it('recognises its own tokens and tells the kind from the prefix', () => {
    expect(parseTokenKind(generateToken('oat_'))).toBe('access_token');
    expect(parseTokenKind(generateToken('ort_'))).toBe('refresh_token');
    expect(parseTokenKind(generateToken('mat_'), { access: 'mat_', refresh: 'mar_' })).toBe('access_token');
    expect(isWellFormedToken(generateToken('ort_'))).toBe(true);
  });

  it('rejects every single-character alteration of a token', () => {
    const token = generateToken('oat_');
    const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    let accepted = 0;
    for (let i = 4; i < token.length; i++) {
      for (const c of alphabet) {
        if (c === token[i]) continue;
        if (isWellFormedToken(token.slice(0, i) + c + token.slice(i + 1))) accepted++;
      }
    }
    expect(accepted).toBe(0);
  });

  it('rejects noise: wrong prefix, wrong length, non-base62 characters, empty strings', () => {
    const token = generateToken('oat_');
    expect(isWellFormedToken('xyz_' + token.slice(4))).toBe(false);
    expect(isWellFormedToken(token + 'a')).toBe(false);
    expect(isWellFormedToken(token.slice(0, -1))).toBe(false);
    expect(isWellFormedToken(token.slice(0, 10) + '-' + token.slice(11))).toBe(false);
    expect(isWellFormedToken('')).toBe(false);
    expect(isWellFormedToken('oat_')).toBe(false);
  });

  it('rejects a token minted with another prefix set', () => {
    expect(isWellFormedToken(generateToken('mat_'))).toBe(false);
  });

  it('hashes with SHA-256 (32 bytes, deterministic, never the plaintext)', () => {
    const token = generateToken('oat_');
    const digest = hashToken(token);
    expect(digest).toHaveLength(32);
    expect(hashToken(token).equals(digest)).toBe(true);
    expect(digest.toString('utf8')).not.toContain(token);
  });
});
