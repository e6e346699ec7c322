import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { OAuthException } from './oauth.exception';
import { declaredTooLarge, hasMediaType, OAUTH_BODY_LIMIT_BYTES, rawOAuthBody } from './request-body';

/** Parameters that carry tokens or credentials: never accepted in the URL (RFC 6749 §2.3.1, RFC 6750 §2.3). */
const URI_FORBIDDEN = ['token', 'token_type_hint', 'client_id', 'client_secret', 'refresh_token', 'access_token', 'code', 'code_verifier', 'password', 'assertion'];

const FORM_STATE = Symbol('oauthForm');

type FormRequest = Request & { [FORM_STATE]?: Readonly<Record<string, string>> };

/** The form parameters of an OAuth request: each sent once, empty values dropped (they count as absent). */
export type OAuthFormParams = Readonly<Record<string, string>>;

function tooLarge(): OAuthException {
  return OAuthException.invalidRequest(`The request body is larger than ${OAUTH_BODY_LIMIT_BYTES} bytes.`, 413, { Connection: 'close' });
}

/**
 * The body rules every OAuth endpoint shares, applied once per request (the result is cached on it):
 * form-urlencoded only, no credentials in the query, each parameter at most once, empty means absent.
 */
export function readOAuthForm(req: Request): OAuthFormParams {
  const r = req as FormRequest;
  const cached = r[FORM_STATE];
  if (cached) return cached;
  // Express 5 parses req.query anew on every read: read it once, and only when the URL has a query.
  if (req.url.includes('?')) {
    const query = req.query;
    for (const name of URI_FORBIDDEN) {
      if (query?.[name] !== undefined) {
        throw OAuthException.invalidRequest(`Send ${name} in the form-encoded request body, not in the URL.`);
      }
    }
  }
  if (!hasMediaType(req.headers['content-type'], 'form')) {
    throw OAuthException.invalidRequest('The request body must be application/x-www-form-urlencoded.');
  }
  const raw = rawOAuthBody(req);
  if (raw && 'problem' in raw) throw raw.problem === 'too_large' ? tooLarge() : OAuthException.invalidRequest('The request body could not be read.');
  if (declaredTooLarge(req)) throw tooLarge();
  const params = raw !== undefined ? fromRaw(raw.text) : fromParsed(req.body);
  r[FORM_STATE] = params;
  return params;
}

function fromRaw(raw: string): OAuthFormParams {
  const params: Record<string, string> = Object.create(null);
  for (const [name, value] of new URLSearchParams(raw)) {
    if (value === '') continue;
    if (name in params) throw OAuthException.invalidRequest(`The parameter ${name} was sent more than once.`);
    params[name] = value;
  }
  return Object.freeze(params);
}

/** The host app's body parser ran before us (Nest's default): repeated parameters arrive as arrays. */
function fromParsed(body: unknown): OAuthFormParams {
  const params: Record<string, string> = Object.create(null);
  // A chunked body has no Content-Length: bound what the host's parser produced instead.
  if (JSON.stringify(body ?? {}).length > OAUTH_BODY_LIMIT_BYTES) throw tooLarge();
  if (body && typeof body === 'object') {
    for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
      if (Array.isArray(value)) {
        if (value.filter((v) => v !== '').length > 1) throw OAuthException.invalidRequest(`The parameter ${name} was sent more than once.`);
        const single = value.find((v) => v !== '');
        if (typeof single === 'string') params[name] = single;
        else if (single !== undefined) throw OAuthException.invalidRequest(`The parameter ${name} must be a plain value.`);
      } else if (typeof value === 'string') {
        if (value !== '') params[name] = value;
      } else {
        throw OAuthException.invalidRequest(`The parameter ${name} must be a plain value.`);
      }
    }
  }
  return Object.freeze(params);
}

/** The validated form of an OAuth request (see readOAuthForm), as a handler parameter. */
export const OAuthForm = createParamDecorator((_data: unknown, ctx: ExecutionContext) => readOAuthForm(ctx.switchToHttp().getRequest<Request>()));
