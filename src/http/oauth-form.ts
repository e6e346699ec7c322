import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { OAuthException } from './oauth.exception';

/** RFC 6749 does not bound request bodies; every legitimate OAuth form fits in far less than this. */
export const OAUTH_FORM_LIMIT_BYTES = 16 * 1024;

/** Parameters that carry tokens or credentials: never accepted in the URL (RFC 6749 §2.3.1, RFC 6750 §2.3). */
const URI_FORBIDDEN = ['token', 'token_type_hint', 'client_id', 'client_secret', 'refresh_token', 'access_token', 'code', 'code_verifier', 'password', 'assertion'];

const FORM_STATE = Symbol('oauthForm');
const RAW_BODY = Symbol('oauthRawBody');

type FormRequest = Request & { [FORM_STATE]?: Readonly<Record<string, string>>; [RAW_BODY]?: string | OAuthException };

/** The form parameters of an OAuth request: each sent once, empty values dropped (they count as absent). */
export type OAuthFormParams = Readonly<Record<string, string>>;

function isFormUrlEncoded(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const semi = contentType.indexOf(';');
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase() === 'application/x-www-form-urlencoded';
}

/**
 * Reads the raw body of an OAuth POST, up to the limit, unless the host app's own body parser got there
 * first. Never throws: problems are kept for readOAuthForm, so the endpoint's exception filter renders them.
 */
export function bufferOAuthBody(req: Request, done: () => void): void {
  const r = req as FormRequest & { _body?: boolean };
  if (req.method !== 'POST' || r._body || req.readableEnded || !isFormUrlEncoded(req.headers['content-type'])) return done();
  const declared = Number(req.headers['content-length']);
  if (declared > OAUTH_FORM_LIMIT_BYTES) {
    r[RAW_BODY] = tooLarge();
    return done();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (value: string | OAuthException) => {
    if (finished) return;
    finished = true;
    r[RAW_BODY] = value;
    req.removeListener('data', onData);
    done();
  };
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size > OAUTH_FORM_LIMIT_BYTES) {
      // Stop buffering; the rest of the body is discarded and the connection closed after the answer.
      req.resume();
      finish(tooLarge());
    } else {
      chunks.push(chunk);
    }
  };
  req.on('data', onData);
  // A form this small nearly always arrives in one chunk: no copy then.
  req.once('end', () => finish((chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)).toString('utf8')));
  req.once('error', () => finish(OAuthException.invalidRequest('The request body could not be read.')));
}

function tooLarge(): OAuthException {
  return OAuthException.invalidRequest(`The request body is larger than ${OAUTH_FORM_LIMIT_BYTES} bytes.`, 413, { Connection: 'close' });
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
  if (!isFormUrlEncoded(req.headers['content-type'])) {
    throw OAuthException.invalidRequest('The request body must be application/x-www-form-urlencoded.');
  }
  const raw = r[RAW_BODY];
  if (raw instanceof OAuthException) throw raw;
  if (Number(req.headers['content-length']) > OAUTH_FORM_LIMIT_BYTES) throw tooLarge();
  const params = raw !== undefined ? fromRaw(raw) : fromParsed(req.body);
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
  if (JSON.stringify(body ?? {}).length > OAUTH_FORM_LIMIT_BYTES) throw tooLarge();
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
