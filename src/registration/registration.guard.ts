import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { CLIENT_AUTH_OPTIONS, ClientAuthOptions } from '../clients/client-auth-options';
import { OAuthException } from '../http/oauth.exception';
import { REGISTRATION_OPTIONS } from './registration.constants';
import type { ResolvedRegistrationOptions } from './registration-options.interface';
import { RegistrationRateLimiter } from './registration-rate-limiter';
import { hashToken } from '../grants/token-format';

/**
 * Who may register: the per-address rate limit first (429 slow_down with Retry-After), then the initial
 * access token when the operator configured one (RFC 7591 §3; RFC 6750 §3 challenge). Members are
 * protected so hosts can extend it.
 */
@Injectable()
export class RegistrationGuard implements CanActivate {
  protected readonly realm: string;

  constructor(
    @Inject(REGISTRATION_OPTIONS) protected readonly options: ResolvedRegistrationOptions,
    protected readonly limiter: RegistrationRateLimiter,
    @Inject(CLIENT_AUTH_OPTIONS) core: ClientAuthOptions,
  ) {
    this.realm = `realm="${core.issuer.replace(/["\\]/g, '')}"`;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    const wait = await this.limiter.take(req.ip ?? req.socket.remoteAddress);
    if (wait > 0) {
      // RFC 8628 §3.5's slow_down is the registered OAuth code for "too many requests, back off".
      throw new OAuthException('slow_down', `Too many registrations from this address; retry in ${wait} seconds.`, 429, { 'Retry-After': String(wait) });
    }
    const expected = this.options.initialAccessTokenHash;
    if (expected) {
      const header = req.headers.authorization;
      const match = header === undefined ? null : /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)[ ]*$/i.exec(header);
      if (!match) {
        // RFC 6750 §3.1: a request without credentials gets the challenge without an error code.
        throw new OAuthException('invalid_token', 'Registration needs an initial access token: send Authorization: Bearer <token>.', 401, {
          'WWW-Authenticate': `Bearer ${this.realm}`,
        });
      }
      const presented = hashToken(match[1]);
      if (!timingSafeEqual(presented, expected)) {
        throw new OAuthException('invalid_token', 'The initial access token is not valid.', 401, {
          'WWW-Authenticate': `Bearer ${this.realm}, error="invalid_token"`,
        });
      }
    }
    return true;
  }
}
