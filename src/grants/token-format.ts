import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

/** The two kinds of token this server mints. */
export type TokenKind = 'access_token' | 'refresh_token';

export interface TokenPrefixes {
  access: string;
  refresh: string;
}

export const DEFAULT_TOKEN_PREFIXES: Readonly<TokenPrefixes> = Object.freeze({ access: 'oat_', refresh: 'ort_' });

/** A prefix is short, lower-case and ends with `_`, so scanners can match it with a plain regex. */
export const TOKEN_PREFIX_PATTERN = /^[a-z][a-z0-9]{1,14}_$/;

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** 32 base62 characters carry 190 bits of entropy (the issue asks for at least 160). */
export const TOKEN_BODY_LENGTH = 32;
/** base62 needs 6 characters to hold any 32-bit CRC (62^6 > 2^32). */
export const TOKEN_CHECKSUM_LENGTH = 6;

const BASE62 = new Set(ALPHABET);

function randomBase62(length: number): string {
  // Rejection sampling keeps every character uniform: 248 = 4 * 62 is the largest multiple of 62 below 256.
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248) out += ALPHABET[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

function checksum(prefixAndBody: string): string {
  let value = crc32(prefixAndBody) >>> 0;
  let out = '';
  for (let i = 0; i < TOKEN_CHECKSUM_LENGTH; i++) {
    out = ALPHABET[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

/** Mints a new opaque token: `<prefix><32 random base62 chars><6 char CRC32 of prefix and body>`. */
export function generateToken(prefix: string): string {
  const body = prefix + randomBase62(TOKEN_BODY_LENGTH);
  return body + checksum(body);
}

/**
 * Tells a well-formed token from noise without a database lookup: known prefix,
 * base62 body of the right length, and a matching CRC32 suffix. Returns the token's kind, or null.
 */
export function parseTokenKind(token: string, prefixes: TokenPrefixes = DEFAULT_TOKEN_PREFIXES): TokenKind | null {
  let kind: TokenKind;
  let prefix: string;
  if (token.startsWith(prefixes.access)) {
    kind = 'access_token';
    prefix = prefixes.access;
  } else if (token.startsWith(prefixes.refresh)) {
    kind = 'refresh_token';
    prefix = prefixes.refresh;
  } else {
    return null;
  }
  if (token.length !== prefix.length + TOKEN_BODY_LENGTH + TOKEN_CHECKSUM_LENGTH) return null;
  for (let i = prefix.length; i < token.length; i++) if (!BASE62.has(token[i])) return null;
  const split = token.length - TOKEN_CHECKSUM_LENGTH;
  return checksum(token.slice(0, split)) === token.slice(split) ? kind : null;
}

/** True when `token` is a well-formed token of this server (either kind). Part of the public API for secret scanners. */
export function isWellFormedToken(token: string, prefixes: TokenPrefixes = DEFAULT_TOKEN_PREFIXES): boolean {
  return parseTokenKind(token, prefixes) !== null;
}

/** Tokens are stored only as their SHA-256 digest. */
export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
