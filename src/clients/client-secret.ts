import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const SCHEME = 'sha256$';

/** A new client secret: 32 random bytes (256 bits), base64url, shown once to the operator. */
export function generateClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Client secrets are server-generated with 256 bits of entropy, so a fast digest is as strong as a slow
 * password hash here (no dictionary to try) and keeps client authentication cheap on the revoke path.
 * The scheme prefix leaves room to move to another algorithm without a flag day.
 */
export function hashClientSecret(secret: string): string {
  return SCHEME + createHash('sha256').update(secret, 'utf8').digest('base64url');
}

/**
 * A well-formed hash no secret produces in practice (the digest of 32 random bytes of this process): client
 * authentication compares against it when there is no stored hash, so unknown clients cost the same work.
 */
export const DUMMY_SECRET_HASH = hashClientSecret(randomBytes(32).toString('base64url'));

/** Compares a presented secret with a stored hash in constant time. */
export function verifyClientSecret(secret: string, storedHash: string | null): boolean {
  if (!storedHash || !storedHash.startsWith(SCHEME)) return false;
  const expected = Buffer.from(storedHash.slice(SCHEME.length), 'base64url');
  const actual = createHash('sha256').update(secret, 'utf8').digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
