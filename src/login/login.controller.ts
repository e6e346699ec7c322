import { Controller, Get, Inject, Post, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { OAUTH_CORE_OPTIONS } from '../core/oauth-core.module-definition';
import type { ResolvedOAuthCoreOptions } from '../core/oauth-core-options.interface';
import { pageCookie, readCookie } from '../http/cookies';
import { readOAuthForm } from '../http/oauth-form';
import { FormTokens } from './form-tokens';
import { LOGIN_OPTIONS } from './login.constants';
import type { ResolvedLoginOptions } from './login-options.interface';
import { pageHeaders, PageView, renderPage } from './login-pages';
import { LoginPageExceptionFilter } from './login-page.filter';
import { LoginOutcome, LoginService, REQUEST_GONE } from './login.service';

/** Authorization request ids are opaque to the login step; anything else is not looked up. */
const REQUEST_ID = /^[A-Za-z0-9_.~-]{1,200}$/;

/**
 * The login and consent pages at `<loginPath>?request=<id>` (HTTP only: cookies, headers, status codes).
 * Cookies: the browser session (`HttpOnly`, `SameSite=Lax`, `Secure` and the `__Host-` prefix under an
 * https issuer) and the pre-session CSRF cookie the forms' tokens are bound to. The route comes from the
 * module's `path` option (see LoginModule); this class has none of its own.
 */
@Controller()
@UseFilters(LoginPageExceptionFilter)
export class LoginController {
  private readonly secure: boolean;
  private readonly sessionCookie: string;
  private readonly csrfCookie: string;

  constructor(
    protected readonly login: LoginService,
    protected readonly tokens: FormTokens,
    @Inject(LOGIN_OPTIONS) protected readonly options: ResolvedLoginOptions,
    @Inject(OAUTH_CORE_OPTIONS) core: ResolvedOAuthCoreOptions,
  ) {
    this.secure = core.issuer.startsWith('https:');
    // RFC 6265bis §4.1.3.2: a __Host- cookie is Secure, host-only and for the whole origin; a sibling
    // subdomain cannot set or shadow it.
    const prefix = this.secure ? '__Host-' : '';
    this.sessionCookie = `${prefix}oauth_session`;
    this.csrfCookie = `${prefix}oauth_csrf`;
  }

  @Get()
  async show(@Req() req: Request, @Res() res: Response): Promise<void> {
    const requestId = this.requestId(req);
    if (!requestId) return this.send(req, res, { kind: 'error', status: 400, view: REQUEST_GONE });
    const screen = new URL(req.originalUrl, 'http://x').searchParams.get('screen') === 'signup' ? 'signup' : undefined;
    this.send(req, res, await this.login.show(requestId, this.cookie(req, this.sessionCookie), screen));
  }

  @Post()
  async submit(@Req() req: Request, @Res() res: Response): Promise<void> {
    const requestId = this.requestId(req);
    if (!requestId) return this.send(req, res, { kind: 'error', status: 400, view: REQUEST_GONE });
    const form = readOAuthForm(req);
    // Before anything else: a form not made by this server for this browser and this request is refused.
    if (!this.tokens.checkCsrf(this.cookie(req, this.csrfCookie), requestId, form.csrf)) {
      return this.send(req, res, {
        kind: 'error',
        status: 403,
        view: { heading: 'Please try again', message: 'This form expired or did not come from this page. Go back, reload the page and submit it again.' },
      });
    }
    const session = this.cookie(req, this.sessionCookie);
    let outcome: LoginOutcome;
    switch (form.step) {
      case 'login':
        outcome = await this.login.login(requestId, session, form.username ?? '', form.password ?? '', req.ip);
        break;
      case 'signup':
        outcome = await this.login.signup(requestId, session, form.username ?? '', form.password ?? '', form.confirm ?? '', req.ip);
        break;
      case 'consent':
        outcome = await this.login.consent(requestId, session, form.decision, form.proof);
        break;
      case 'switch':
        outcome = await this.login.switchAccount(requestId, session);
        break;
      default:
        outcome = { kind: 'error', status: 400, view: { heading: 'Unknown form', message: 'Go back, reload the page and try again.' } };
    }
    this.send(req, res, outcome);
  }

  /** Renders an outcome: cookies first, then a 303 to the client or a page with the security headers. */
  protected send(req: Request, res: Response, outcome: LoginOutcome): void {
    const cookies: string[] = [];
    if ('session' in outcome && outcome.session !== undefined) {
      cookies.push(
        outcome.session
          ? this.setCookie(this.sessionCookie, outcome.session.token, this.options.sessionTtlSeconds)
          : this.setCookie(this.sessionCookie, '', 0),
      );
    }
    if (outcome.kind === 'redirect') {
      if (cookies.length) res.setHeader('Set-Cookie', cookies);
      // 303: the browser follows with a GET, whatever the method of the form that led here.
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('Referrer-Policy', 'no-referrer');
      res.redirect(303, outcome.url);
      return;
    }
    let csrfCookie = this.cookie(req, this.csrfCookie);
    if (!FormTokens.isCookieValue(csrfCookie)) {
      csrfCookie = FormTokens.newCookieValue();
      // A browser-lifetime cookie: it only binds forms to this browser.
      cookies.push(this.setCookie(this.csrfCookie, csrfCookie));
    }
    const page = this.page(outcome, csrfCookie, req.headers['accept-language']);
    const headers = pageHeaders(outcome.kind === 'error' ? undefined : outcome.pending.redirectUri);
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    if (cookies.length) res.setHeader('Set-Cookie', cookies);
    if ('retryAfterSeconds' in outcome && outcome.retryAfterSeconds) res.setHeader('Retry-After', String(outcome.retryAfterSeconds));
    const status = outcome.kind === 'consent' ? 200 : outcome.status;
    res.status(status).send(renderPage(page));
  }

  private page(outcome: Exclude<LoginOutcome, { kind: 'redirect' }>, csrfCookie: string, acceptLanguage: string | undefined): PageView {
    if (outcome.kind === 'error') return { page: 'error', view: outcome.view };
    const id = outcome.pending.id;
    const action = `?request=${encodeURIComponent(id)}`;
    const form = { action, csrf: this.tokens.csrf(csrfCookie, id), ...this.login.clientView(outcome.pending, acceptLanguage) };
    switch (outcome.kind) {
      case 'login':
        return {
          page: 'login',
          view: { ...form, username: outcome.username, error: outcome.error, signupAction: this.options.selfRegistration ? `${action}&screen=signup` : undefined },
        };
      case 'signup':
        return { page: 'signup', view: { ...form, username: outcome.username, error: outcome.error, minLength: this.login.minPasswordLength(), loginAction: action } };
      case 'consent':
        return { page: 'consent', view: { ...form, username: outcome.username, scopes: outcome.scopes, proof: outcome.proof, userCode: outcome.pending.userCode } };
    }
  }

  /** Exactly one `request` parameter, of a plausible shape. */
  private requestId(req: Request): string | undefined {
    const ids = new URL(req.originalUrl, 'http://x').searchParams.getAll('request');
    return ids.length === 1 && REQUEST_ID.test(ids[0]) ? ids[0] : undefined;
  }

  private cookie(req: Request, name: string): string | undefined {
    return readCookie(req, name);
  }

  private setCookie(name: string, value: string, maxAgeSeconds?: number): string {
    return pageCookie(name, value, this.secure, maxAgeSeconds);
  }
}
