import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { OAuthErrorCode, OAuthException } from './oauth.exception';
import { declaredTooLarge, hasMediaType, OAUTH_BODY_LIMIT_BYTES, rawOAuthBody } from './request-body';

/** A JSON request body that is an object (RFC 7591 §3.1), its members as sent. */
export type OAuthJsonObject = Readonly<Record<string, unknown>>;

const JSON_STATE = Symbol('oauthJson');
type JsonRequest = Request & { [JSON_STATE]?: OAuthJsonObject };

/**
 * The body rules of a JSON OAuth endpoint (RFC 7591 §3.1), applied once per request (the result is cached
 * on it): `application/json`, at most 16 KiB, one JSON object. Every refusal is a 400 with `errorCode`
 * (RFC 7591 §3.2.2: `invalid_client_metadata` for registration), never a 5xx. Works on the raw body the
 * endpoint middleware buffered, or on what the host app's own JSON parser produced.
 */
export function readOAuthJson(req: Request, errorCode: OAuthErrorCode = 'invalid_request'): OAuthJsonObject {
  const r = req as JsonRequest;
  const cached = r[JSON_STATE];
  if (cached) return cached;
  const refuse = (description: string, headers: Record<string, string> = {}) => new OAuthException(errorCode, description, 400, headers);
  const tooLarge = () => refuse(`The request body is larger than ${OAUTH_BODY_LIMIT_BYTES} bytes.`, { Connection: 'close' });
  if (!hasMediaType(req.headers['content-type'], 'json')) throw refuse('The request body must be a JSON object sent as application/json.');
  const raw = rawOAuthBody(req);
  if (raw && 'problem' in raw) throw raw.problem === 'too_large' ? tooLarge() : refuse('The request body could not be read.');
  if (declaredTooLarge(req)) throw tooLarge();
  let body: unknown;
  if (raw !== undefined) {
    try {
      body = JSON.parse(raw.text);
    } catch {
      throw refuse('The request body is not valid JSON; send one JSON object.');
    }
  } else {
    body = req.body;
    // A chunked body has no Content-Length: bound what the host's parser produced instead.
    if (JSON.stringify(body ?? null).length > OAUTH_BODY_LIMIT_BYTES) throw tooLarge();
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw refuse('The request body must be a JSON object.');
  const object = Object.freeze(body as Record<string, unknown>);
  r[JSON_STATE] = object;
  return object;
}

/** The JSON object body of an OAuth request (see readOAuthJson), as a handler parameter; data: the error code. */
export const OAuthJson = createParamDecorator((errorCode: OAuthErrorCode | undefined, ctx: ExecutionContext) =>
  readOAuthJson(ctx.switchToHttp().getRequest<Request>(), errorCode),
);
