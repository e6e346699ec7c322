import { createHash } from 'node:crypto';
import type { MetadataDocument } from './metadata-document';

/** Everything the controller sends, computed once at startup. */
export interface PreparedMetadataResponse {
  body: Buffer;
  etag: string;
  /** Headers of a 200 answer (GET and HEAD). */
  ok: Readonly<Record<string, string>>;
  /** Headers of a 304 answer: those of the 200 that describe the cached copy (RFC 9110 §15.4.5). */
  notModified: Readonly<Record<string, string>>;
  /** Headers of the answer to a CORS preflight. */
  preflight: Readonly<Record<string, string>>;
}

// Preflight answers never change while the process runs; browsers cap this anyway (2 h to 24 h).
const PREFLIGHT_MAX_AGE_SECONDS = 86400;

export function prepareMetadataResponse(document: MetadataDocument, maxAgeSeconds: number): PreparedMetadataResponse {
  const body = Buffer.from(JSON.stringify(document), 'utf8');
  // A strong validator (RFC 9110 §8.8.3): the digest of the exact bytes served.
  const etag = `"${createHash('sha256').update(body).digest('base64url')}"`;
  // The document is public and the same for everyone, so any origin may read it.
  const cors = { 'Access-Control-Allow-Origin': '*' };
  const notModified = {
    ...cors,
    // ETag is not a CORS-safelisted response header: expose it so browser code can revalidate.
    'Access-Control-Expose-Headers': 'ETag',
    'Cache-Control': `public, max-age=${maxAgeSeconds}`,
    ETag: etag,
  };
  return {
    body,
    etag,
    ok: { ...notModified, 'Content-Type': 'application/json', 'Content-Length': String(body.length) },
    notModified,
    preflight: {
      ...cors,
      'Access-Control-Allow-Methods': 'GET, HEAD',
      'Access-Control-Allow-Headers': 'Accept, Cache-Control, If-None-Match',
      'Access-Control-Max-Age': String(PREFLIGHT_MAX_AGE_SECONDS),
    },
  };
}

/**
 * RFC 9110 §13.1.2: true when an If-None-Match header matches the current (strong) ETag, compared
 * weakly (`W/"x"` matches `"x"`), or is `*`.
 */
export function isNotModified(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === etag);
}
