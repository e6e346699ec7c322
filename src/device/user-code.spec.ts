import { formatUserCode, generateUserCode, normaliseUserCode, USER_CODE_ALPHABET } from './user-code';

describe('user codes (RFC 8628 §6.1)', () => {
  it('are 8 consonants of the 20-letter alphabet, shown in two groups of four', () => {
    expect(USER_CODE_ALPHABET).toHaveLength(20);
    expect(USER_CODE_ALPHABET).not.toMatch(/[AEIOUY]/);
    for (let i = 0; i < 200; i++) {
      const code = generateUserCode();
      expect(code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{8}$/);
      expect(formatUserCode(code)).toBe(`${code.slice(0, 4)}-${code.slice(4)}`);
    }
  });

  it.each([
    ['BCDF-GHJK', 'BCDFGHJK'],
    ['bcdf-ghjk', 'BCDFGHJK'],
    [' bcdf ghjk ', 'BCDFGHJK'],
    ['B-C-D-F-G-H-J-K', 'BCDFGHJK'],
    ['bcdfghjk', 'BCDFGHJK'],
  ])('reads %j as %s', (typed, stored) => {
    expect(normaliseUserCode(typed)).toBe(stored);
  });

  it.each(['BCDF-GHJ', 'BCDF-GHJKL', 'ABCD-EFGH', 'BCDF-GHJ1', '', 'BCDF_GHJK'])('refuses %j without a lookup', (typed) => {
    expect(normaliseUserCode(typed)).toBeNull();
  });
});
