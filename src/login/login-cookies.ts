import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { OAUTH_CORE_OPTIONS } from '../core/oauth-core.module-definition';
import type { ResolvedOAuthCoreOptions } from '../core/oauth-core-options.interface';
import { pageCookie, readCookie } from '../http/cookies';
import { FormTokens } from './form-tokens';

/**
 * The built-in login's two cookies, shared by every page that runs on its browser session (login,
 * account): the browser session (`HttpOnly`, `SameSite=Lax`, `Secure` and the `__Host-` prefix under an
 * https issuer) and the pre-session CSRF cookie the forms' tokens are bound to.
 */
@Injectable()
export class LoginCookies {
  readonly secure: boolean;
  readonly session: string;
  readonly csrf: string;

  constructor(@Inject(OAUTH_CORE_OPTIONS) core: ResolvedOAuthCoreOptions) {
    this.secure = core.issuer.startsWith('https:');
    // RFC 6265bis §4.1.3.2: a __Host- cookie is Secure, host-only and for the whole origin; a sibling
    // subdomain cannot set or shadow it.
    const prefix = this.secure ? '__Host-' : '';
    this.session = `${prefix}oauth_session`;
    this.csrf = `${prefix}oauth_csrf`;
  }

  read(req: Request, name: string): string | undefined {
    return readCookie(req, name);
  }

  /** The browser's CSRF cookie value, and the Set-Cookie header that creates one when it has none yet. */
  csrfValue(req: Request): { value: string; setCookie?: string } {
    const value = this.read(req, this.csrf);
    if (FormTokens.isCookieValue(value)) return { value };
    const fresh = FormTokens.newCookieValue();
    // A browser-lifetime cookie: it only binds forms to this browser.
    return { value: fresh, setCookie: this.setCookie(this.csrf, fresh) };
  }

  setCookie(name: string, value: string, maxAgeSeconds?: number): string {
    return pageCookie(name, value, this.secure, maxAgeSeconds);
  }
}
