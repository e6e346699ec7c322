import type { NextFunction, Request, Response } from 'express';
import type { OAuthErrorCode } from './oauth.exception';
import { OAUTH_BODY_LIMIT_BYTES, OAuthBodyKind } from './request-body';

/** What body-parser (Nest's default parsers) passes on when it cannot read a body: `type` names the cause. */
interface BodyParserError {
  type: string;
  status: number;
}

function isBodyParserError(err: unknown): err is BodyParserError {
  const e = err as Partial<BodyParserError> | null;
  return typeof e === 'object' && e !== null && typeof e.type === 'string' && typeof e.status === 'number' && e.status >= 400 && e.status < 500;
}

/**
 * With the host app's own body parsers on (Nest's default), a body they cannot parse (malformed JSON, over
 * their limit, an unknown charset) fails before the endpoint's middleware, guard and filter run, and Nest
 * would answer in its own format. This Express error handler, installed by the endpoint module for its
 * route (under any global prefix), answers such failures as the endpoint answers any bad body: RFC-shaped,
 * with the endpoint's error code and headers, never a 5xx. Every other error goes on to the host.
 */
export function hostBodyParserErrorHandler(
  path: string,
  kind: OAuthBodyKind,
  errorCode: OAuthErrorCode,
  setHeaders: (req: Request, res: Response) => void,
): (err: unknown, req: Request, res: Response, next: NextFunction) => void {
  const route = `/${path}`;
  return (err, req, res, next) => {
    if (!isBodyParserError(err) || res.headersSent) return next(err);
    const pathname = req.originalUrl.split('?', 1)[0].replace(/\/+$/, '');
    if (pathname !== route && !pathname.endsWith(route)) return next(err);
    setHeaders(req, res);
    const tooLarge = err.type === 'entity.too.large';
    let description = 'The request body could not be read.';
    if (tooLarge) description = `The request body is larger than ${OAUTH_BODY_LIMIT_BYTES} bytes.`;
    else if (err.type === 'entity.parse.failed') description = kind === 'json' ? 'The request body is not valid JSON; send one JSON object.' : 'The request body could not be parsed.';
    // The rest of an oversized body was not read: close the connection after the answer.
    if (tooLarge) res.setHeader('Connection', 'close');
    // A form endpoint answers an oversized body 413 (as readOAuthForm does); RFC 7591 §3.2.2 wants 400.
    res.status(tooLarge && kind === 'form' ? 413 : 400).json({ error: errorCode, error_description: description });
  };
}
