import type { IncomingMessage, ServerResponse } from 'node:http';

/** True when the request announced a body (RFC 9112 §6.3) and it has not been read to its end. */
export function hasUnreadBody(req: IncomingMessage): boolean {
  if (req.complete) return false;
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/**
 * Calls `fn` just before the response's headers are written, whoever writes them (Nest, Express, a filter).
 * Hooks compose: each wraps the one before.
 */
export function beforeHeaders(res: ServerResponse, fn: () => void): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    if (!this.headersSent) fn();
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['writeHead'];
}

/**
 * An answer sent before the request's body was read (a refusal by content type, a GET with a body) closes
 * the connection: Node would otherwise read and discard the rest to reuse the connection, for as long as
 * the client keeps sending (RFC 9112 §9.6: the server closes after a response with `Connection: close`).
 */
export function closeIfBodyUnread(req: IncomingMessage, res: ServerResponse): void {
  beforeHeaders(res, () => {
    if (hasUnreadBody(req)) res.setHeader('Connection', 'close');
  });
}
