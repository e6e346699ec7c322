import { CanActivate, ExecutionContext, Inject, Injectable, Logger } from '@nestjs/common';
import type { Request } from 'express';
import { CLIENT_AUTH_OPTIONS, ClientAuthOptions } from './client-auth-options';
import { OAuthException } from '../http/oauth.exception';
import { OAuthFormParams, readOAuthForm } from '../http/oauth-form';
import { TOKEN_ENDPOINT_AUTH_METHODS } from './client-auth-methods';
import { RETRY_AFTER_SECONDS } from '../http/oauth-exception.filter';
import { AuthenticatedClient, CLIENT_KEY, RequestWithClient } from './authenticated-client';
import { AuthFailureLimiter } from './auth-failure-limiter';
import { DUMMY_SECRET_HASH, verifyClientSecret } from './client-secret';
import { ClientsService } from './clients.service';

/** The one description of every failed client authentication (RFC 6749 §5.2 invalid_client). */
export const CLIENT_AUTH_FAILED = 'Client authentication failed.';

const LIMITER_LOGGER = new Logger('ClientAuthGuard');

/** Credentials as the request presented them, before they are checked. */
interface PresentedCredentials {
  clientId: string;
  secret?: string;
  method: AuthenticatedClient['method'];
  viaHeader: boolean;
}

/**
 * Client authentication for every OAuth endpoint (RFC 6749 §2.3): `client_secret_basic`,
 * `client_secret_post` and `none`. A request that identifies no client passes with a null client;
 * each endpoint decides what anonymous callers may do. Members are protected so hosts can extend it.
 */
@Injectable()
export class ClientAuthGuard implements CanActivate {
  /** The methods this guard accepts, as discovery metadata lists them. */
  static readonly METHODS = TOKEN_ENDPOINT_AUTH_METHODS;

  protected readonly challenge: string;

  constructor(
    protected readonly clients: ClientsService,
    @Inject(CLIENT_AUTH_OPTIONS) protected readonly core: ClientAuthOptions,
    protected readonly limiter: AuthFailureLimiter,
  ) {
    this.challenge = `Basic realm="${core.issuer.replace(/["\\]/g, '')}"`;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<RequestWithClient>();
    const presented = this.presentedCredentials(req, readOAuthForm(req));
    if (!presented) {
      req[CLIENT_KEY] = null;
      return true;
    }
    // Brute-force protection guards secrets: only requests that present one are counted or held back.
    // A public client (client_id alone) has nothing to guess, and must not be lockable by strangers:
    // anyone could otherwise block every user's logout by sending its id with wrong secrets.
    if (presented.secret === undefined) {
      req[CLIENT_KEY] = await this.authenticate(presented);
      return true;
    }
    // RFC 6749 §2.3.1, RFC 7009 §5: the attempt is reserved before the secret is checked, so concurrent
    // guesses count; the lookup runs meanwhile, and its result is not used when the attempt is refused.
    const address = req.ip ?? req.socket.remoteAddress;
    const [reserved, checked] = await Promise.allSettled([this.limiter.begin(presented.clientId, address), this.authenticate(presented)]);
    if (reserved.status === 'rejected') {
      // The limiter's store cannot be reached: refuse rather than let guesses through uncounted. Said in
      // the log, as the endpoints' filter says an unreachable database: a 503 with no cause is a riddle.
      const cause = reserved.reason as { message?: unknown; code?: unknown } | undefined;
      LIMITER_LOGGER.warn(`Brute-force limiter store unavailable (${String(cause?.code ?? 'no code')}): ${String(cause?.message ?? cause)}`);
      throw OAuthException.temporarilyUnavailable(RETRY_AFTER_SECONDS);
    }
    const attempt = reserved.value;
    if (attempt.retryAfterSeconds > 0) {
      const wait = attempt.retryAfterSeconds;
      // RFC 8628 §3.5's slow_down is the registered OAuth code for "too many requests, back off".
      throw new OAuthException('slow_down', `Too many failed client authentications; retry in ${wait} seconds.`, 429, { 'Retry-After': String(wait) });
    }
    if (checked.status === 'fulfilled') {
      void attempt.end('success'); // off the response's path: a success only releases its reservation
      req[CLIENT_KEY] = checked.value;
      return true;
    }
    const err: unknown = checked.reason;
    const failed = err instanceof OAuthException && err.error === 'invalid_client';
    // A failure is recorded before the answer, so the next guess sees it.
    if (failed) await attempt.end('failure');
    else void attempt.end('abandoned');
    throw err;
  }

  protected presentedCredentials(req: Request, form: OAuthFormParams): PresentedCredentials | null {
    const header = req.headers.authorization;
    if (header !== undefined) {
      const basic = this.parseBasic(header);
      // RFC 6749 §2.3: a client MUST NOT use more than one authentication method in each request.
      if (form.client_secret !== undefined) {
        throw OAuthException.invalidRequest('Send the client secret either in the Authorization header or in the body, not both.');
      }
      if (form.client_id !== undefined && form.client_id !== basic.clientId) {
        throw OAuthException.invalidRequest('client_id in the body does not match the client of the Authorization header.');
      }
      return { ...basic, method: 'client_secret_basic', viaHeader: true };
    }
    if (form.client_secret !== undefined) {
      if (form.client_id === undefined) throw OAuthException.invalidRequest('client_secret was sent without client_id.');
      return { clientId: form.client_id, secret: form.client_secret, method: 'client_secret_post', viaHeader: false };
    }
    if (form.client_id !== undefined) return { clientId: form.client_id, method: 'none', viaHeader: false };
    return null;
  }

  /** RFC 6749 §2.3.1: id and secret are form-url-encoded before they are joined and base64-encoded. */
  protected parseBasic(header: string): { clientId: string; secret: string } {
    const match = /^Basic[ ]+([A-Za-z0-9+/]+={0,2})[ ]*$/i.exec(header);
    if (!match) {
      if (/^Basic\b/i.test(header)) throw OAuthException.invalidClient('The Basic Authorization header is malformed.', this.challenge);
      throw OAuthException.invalidRequest('Only the Basic scheme is accepted in the Authorization header; send client credentials with it or in the body.');
    }
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw OAuthException.invalidClient('The Basic credentials must be client_id:client_secret.', this.challenge);
    try {
      return { clientId: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
    } catch {
      throw OAuthException.invalidClient('The Basic credentials are not correctly form-url-encoded.', this.challenge);
    }
  }

  protected async authenticate(p: PresentedCredentials): Promise<AuthenticatedClient> {
    const client = await this.clients.findCredentials(p.clientId);
    const usable = client !== null && !client.disabled;
    const confidential = usable && client.tokenEndpointAuthMethod !== 'none';
    let accepted: boolean;
    if (p.secret !== undefined) {
      // The same work whatever the id: an unknown, disabled or public client is compared against a dummy
      // hash, so the answer's timing does not tell which client ids exist.
      const matches = this.verifySecret(p.secret, confidential ? client.secretHash : DUMMY_SECRET_HASH);
      accepted = confidential && matches;
    } else {
      accepted = usable && !confidential;
    }
    // One description for unknown, disabled, wrong secret and missing secret: no hint which client ids
    // exist or which of them are confidential.
    if (!accepted) throw OAuthException.invalidClient(CLIENT_AUTH_FAILED, p.viaHeader ? this.challenge : undefined);
    return { clientId: client!.clientId, method: p.method, confidential, grantTypes: client!.grantTypes };
  }

  /** Constant-time comparison of a presented secret with a stored hash (see client-secret.ts). */
  protected verifySecret(secret: string, storedHash: string | null): boolean {
    return verifyClientSecret(secret, storedHash);
  }
}

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}
