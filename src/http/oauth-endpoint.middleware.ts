import type { NextFunction, Request, Response } from 'express';
import { bufferOAuthBody } from './oauth-form';

export interface OAuthCorsOptions {
  /** Origins allowed to call the endpoint from a browser; `*` allows any. */
  origins: string[];
  maxAgeSeconds: number;
}

/** The headers of a CORS preflight answer, computed once (see preflightHeaders). */
export function preflightHeaders(cors: OAuthCorsOptions, methods = 'POST, OPTIONS'): Record<string, string> {
  return {
    'Access-Control-Allow-Methods': methods,
    'Access-Control-Allow-Headers': 'Authorization, Content-Type',
    'Access-Control-Max-Age': String(cors.maxAgeSeconds),
  };
}

/**
 * Runs first on an OAuth endpoint: headers every answer carries (RFC 6749 §5.1 no-store, CORS), then the
 * raw body. Built once per module with its options; per request it only sets headers.
 */
export function oauthEndpointMiddleware(cors: OAuthCorsOptions): (req: Request, res: Response, next: NextFunction) => void {
  const anyOrigin = cors.origins.includes('*');
  const allowed = new Set(cors.origins);
  return (req, res, next) => {
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
    bufferOAuthBody(req, next);
  };
}
