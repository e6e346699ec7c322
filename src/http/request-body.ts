import type { Request } from 'express';

/** RFC 6749 and RFC 7591 do not bound request bodies; every legitimate OAuth request fits in far less. */
export const OAUTH_BODY_LIMIT_BYTES = 16 * 1024;

/** What an endpoint reads: an RFC 6749 form, or an RFC 7591 JSON object. */
export type OAuthBodyKind = 'form' | 'json';

const MEDIA_TYPES: Readonly<Record<OAuthBodyKind, string>> = { form: 'application/x-www-form-urlencoded', json: 'application/json' };

/** The raw body as read, or why it could not be. */
export type RawOAuthBody = { text: string } | { problem: 'too_large' | 'unreadable' };

const RAW_BODY = Symbol('oauthRawBody');
type BufferedRequest = Request & { [RAW_BODY]?: RawOAuthBody; _body?: boolean };

/** Whether a Content-Type header names the body kind's media type (parameters such as charset aside). */
export function hasMediaType(contentType: string | undefined, kind: OAuthBodyKind): boolean {
  if (!contentType) return false;
  const semi = contentType.indexOf(';');
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase() === MEDIA_TYPES[kind];
}

/** Whether the request declares a Content-Length over the limit. */
export function declaredTooLarge(req: Request): boolean {
  return Number(req.headers['content-length']) > OAUTH_BODY_LIMIT_BYTES;
}

/**
 * Reads the raw body of an OAuth POST of the given kind, up to the limit, unless the host app's own body
 * parser got there first. Never throws: problems are kept for the endpoint's reader (readOAuthForm,
 * readOAuthJson), so the endpoint's exception filter renders them in its own error format.
 */
export function bufferOAuthBody(req: Request, done: () => void, kind: OAuthBodyKind = 'form'): void {
  const r = req as BufferedRequest;
  if (req.method !== 'POST' || r._body || req.readableEnded || !hasMediaType(req.headers['content-type'], kind)) return done();
  if (declaredTooLarge(req)) {
    r[RAW_BODY] = { problem: 'too_large' };
    return done();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (value: RawOAuthBody) => {
    if (finished) return;
    finished = true;
    r[RAW_BODY] = value;
    req.removeListener('data', onData);
    done();
  };
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size > OAUTH_BODY_LIMIT_BYTES) {
      // Stop buffering; the rest of the body is discarded and the connection closed after the answer.
      req.resume();
      finish({ problem: 'too_large' });
    } else {
      chunks.push(chunk);
    }
  };
  req.on('data', onData);
  // A body this small nearly always arrives in one chunk: no copy then.
  req.once('end', () => finish({ text: (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)).toString('utf8') }));
  req.once('error', () => finish({ problem: 'unreadable' }));
}

/** The body bufferOAuthBody read; undefined when it read none (another kind, or the host's parser ran). */
export function rawOAuthBody(req: Request): RawOAuthBody | undefined {
  return (req as BufferedRequest)[RAW_BODY];
}
