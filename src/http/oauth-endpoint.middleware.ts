import type { NextFunction, Request, Response } from 'express';
import { bufferOAuthBody, OAuthBodyKind } from './request-body';
import { beforeHeaders, hasUnreadBody } from './unread-body';

export interface OAuthCorsOptions {
  /** Origins allowed to call the endpoint from a browser; `*` allows any. */
  origins: string[];
  maxAgeSeconds: number;
}

/** What an endpoint answers to other methods than POST (see OAuthEndpointController), prepared once. */
export interface EndpointAnswers {
  allow: string;
  preflight: Readonly<Record<string, string>>;
  /** The 405 description, e.g. `Use POST to revoke a token.` */
  usage: string;
}

export const ENDPOINT_ANSWERS = Symbol('oauthEndpointAnswers');
export type EndpointRequest = Request & { [ENDPOINT_ANSWERS]?: EndpointAnswers };


/** The headers of a CORS preflight answer, computed once. */
export function preflightHeaders(cors: OAuthCorsOptions, methods = 'POST, OPTIONS'): Record<string, string> {
  return {
    'Access-Control-Allow-Methods': methods,
    'Access-Control-Allow-Headers': 'Authorization, Content-Type',
    'Access-Control-Max-Age': String(cors.maxAgeSeconds),
  };
}

/** Sets the headers every answer of an endpoint carries: RFC 6749 §5.1 no-store, and CORS. */
export function endpointHeaders(cors: OAuthCorsOptions): (req: Request, res: Response) => void {
  const anyOrigin = cors.origins.includes('*');
  const allowed = new Set(cors.origins);
  return (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Pragma', 'no-cache');
    if (anyOrigin) {
      res.setHeader('Access-Control-Allow-Origin', '*');
    } else {
      res.setHeader('Vary', 'Origin');
      const origin = req.headers.origin;
      if (origin && allowed.has(origin)) res.setHeader('Access-Control-Allow-Origin', origin);
    }
    // Browsers hide WWW-Authenticate from scripts unless it is exposed.
    res.setHeader('Access-Control-Expose-Headers', 'WWW-Authenticate');
  };
}

/**
 * Runs first on an OAuth endpoint: headers every answer carries (RFC 6749 §5.1 no-store, CORS), then the
 * raw body of the endpoint's kind (a form, or JSON). Built once per module with its options; per request it
 * only sets headers. `purpose` completes "Use POST to …" in the 405 answer; `methods` are the ones the
 * endpoint serves.
 */
export function oauthEndpointMiddleware(
  cors: OAuthCorsOptions,
  purpose = 'call this endpoint',
  methods: readonly string[] = ['POST'],
  body: OAuthBodyKind = 'form',
): (req: Request, res: Response, next: NextFunction) => void {
  const setHeaders = endpointHeaders(cors);
  const allow = [...methods, 'OPTIONS'].join(', ');
  const answers: EndpointAnswers = Object.freeze({ allow, preflight: Object.freeze(preflightHeaders(cors, allow)), usage: `Use ${methods.join(' or ')} to ${purpose}.` });
  return (req, res, next) => {
    setHeaders(req, res);
    (req as EndpointRequest)[ENDPOINT_ANSWERS] = answers;
    beforeHeaders(res, () => {
      // Express's weak ETag has no use on a no-store answer (RFC 6749 §5.1) and only adds bytes.
      res.removeHeader('ETag');
      if (hasUnreadBody(req)) res.setHeader('Connection', 'close');
    });
    bufferOAuthBody(req, next, body);
  };
}
