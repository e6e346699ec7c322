import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Password hashing for local accounts: scrypt from `node:crypto` at the OWASP Password Storage Cheat Sheet
 * parameters (N = 2^17, r = 8, p = 1), no native package. The stored string describes itself, so the
 * parameters can be raised later and old hashes still verify:
 *
 *   scrypt$ln=17,r=8,p=1$<salt, base64url>$<derived key, base64url>
 */
export interface ScryptParameters {
  /** log2 of the CPU/memory cost N. */
  ln: number;
  r: number;
  p: number;
}

export const OWASP_SCRYPT: Readonly<ScryptParameters> = Object.freeze({ ln: 17, r: 8, p: 1 });

const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Bounds on what a stored hash may ask for: a corrupted or hostile row must not exhaust memory. */
const MAX = { ln: 20, r: 16, p: 4 };
const FORMAT = /^scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d)\$([A-Za-z0-9_-]{16,})\$([A-Za-z0-9_-]{32,})$/;

function derive(password: string, salt: Buffer, params: ScryptParameters, keyLength: number): Promise<Buffer> {
  const N = 2 ** params.ln;
  // scrypt needs 128 * N * r bytes; Node's default maxmem (32 MiB) is below the OWASP parameters' 128 MiB.
  const maxmem = 128 * N * params.r + 32 * 1024 * 1024;
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, keyLength, { N, r: params.r, p: params.p, maxmem }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashPassword(password: string, params: ScryptParameters = OWASP_SCRYPT): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params, KEY_BYTES);
  return `scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** Constant-time comparison of the derived key; false (never a throw) for a hash this code did not write. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = FORMAT.exec(stored);
  if (!m) return false;
  const params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  if (params.ln < 1 || params.ln > MAX.ln || params.r < 1 || params.r > MAX.r || params.p < 1 || params.p > MAX.p) return false;
  const expected = Buffer.from(m[5], 'base64url');
  const key = await derive(password, Buffer.from(m[4], 'base64url'), params, expected.length);
  return timingSafeEqual(key, expected);
}
