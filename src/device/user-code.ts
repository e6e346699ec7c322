import { randomInt } from 'node:crypto';

/**
 * RFC 8628 §6.1: 20 consonants, no vowels (no words can be spelled) and none that look alike; 8 of them
 * are 20^8 ≈ 2^34.6 codes, enough with the rate limit on guesses and the codes' short lives.
 */
export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const LENGTH = 8;

/** A new user code, stored as is (8 letters) and shown as `BCDF-GHJK`. */
export function generateUserCode(): string {
  let code = '';
  for (let i = 0; i < LENGTH; i++) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return code;
}

/** `BCDF-GHJK`: two groups of four, as the device shows it and the consent page repeats it. */
export function formatUserCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/**
 * The code as typed, the way it is stored: case, spaces and dashes ignored (RFC 8628 §6.1); null when it
 * cannot be a user code, so that no lookup is made for it.
 */
export function normaliseUserCode(typed: string): string | null {
  const code = typed.toUpperCase().replace(/[\s-]/g, '');
  if (code.length !== LENGTH) return null;
  for (const c of code) if (!USER_CODE_ALPHABET.includes(c)) return null;
  return code;
}
