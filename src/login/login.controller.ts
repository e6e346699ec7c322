import { Controller, Get, Inject, Post, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { OAUTH_CORE_OPTIONS } from '../core/oauth-core.module-definition';
import type { ResolvedOAuthCoreOptions } from '../core/oauth-core-options.interface';
import { readOAuthForm } from '../http/oauth-form';
import { FormTokens } from './form-tokens';
import { LOGIN_OPTIONS } from './login.constants';
import type { ResolvedLoginOptions } from './login-options.interface';
import { ErrorView, pageHeaders, PageView, renderPage } from './login-pages';
import { LoginCookies } from './login-cookies';
import { localReturnPath } from './local-return';
import { LoginReturnTargets } from './login-return-targets';
import { LoginPageExceptionFilter } from './login-page.filter';
import { FORM_EXPIRED, LoginOutcome, LoginService, REQUEST_GONE } from './login.service';

/** Authorization request ids are opaque to the login step; anything else is not looked up. */
const REQUEST_ID = /^[A-Za-z0-9_.~-]{1,200}$/;

const UNKNOWN_FORM: ErrorView = { heading: 'Unknown form', message: 'Go back, reload the page and try again.' };

/** What a login page is for: a pending authorization request, or a sign-in that returns to a local page. */
type Target = { requestId: string } | { returnTo: string };

/**
 * The login and consent pages at `<loginPath>?request=<id>`, the sign-in without an authorization request at
 * `<loginPath>?return_to=<local path>` (the account page's, say), and `POST <loginPath>/logout` (HTTP only:
 * cookies, headers, status codes). The route comes from the module's `path` option (see LoginModule); this
 * class has none of its own.
 */
@Controller()
@UseFilters(LoginPageExceptionFilter)
export class LoginController {
  private readonly issuerPath: string;

  constructor(
    protected readonly login: LoginService,
    protected readonly tokens: FormTokens,
    protected readonly cookies: LoginCookies,
    @Inject(LOGIN_OPTIONS) protected readonly options: ResolvedLoginOptions,
    @Inject(OAUTH_CORE_OPTIONS) core: ResolvedOAuthCoreOptions,
    protected readonly returnTargets: LoginReturnTargets,
  ) {
    this.issuerPath = new URL(core.issuer).pathname.replace(/\/+$/, '');
  }

  @Get()
  async show(@Req() req: Request, @Res() res: Response): Promise<void> {
    const target = this.target(req);
    if (!target) return this.send(req, res, { kind: 'error', status: 400, view: REQUEST_GONE });
    const session = this.cookies.read(req, this.cookies.session);
    if ('returnTo' in target) return this.send(req, res, await this.login.showSignIn(target.returnTo, session));
    const screen = new URL(req.originalUrl, 'http://x').searchParams.get('screen') === 'signup' ? 'signup' : undefined;
    this.send(req, res, await this.login.show(target.requestId, session, screen));
  }

  @Post()
  async submit(@Req() req: Request, @Res() res: Response): Promise<void> {
    const target = this.target(req);
    if (!target) return this.send(req, res, { kind: 'error', status: 400, view: REQUEST_GONE });
    const form = readOAuthForm(req);
    // Before anything else: a form not made by this server for this browser and this request is refused.
    if (!this.tokens.checkCsrf(this.cookies.read(req, this.cookies.csrf), formPurpose(target), form.csrf)) {
      return this.send(req, res, { kind: 'error', status: 403, view: FORM_EXPIRED });
    }
    const session = this.cookies.read(req, this.cookies.session);
    if ('returnTo' in target) {
      const outcome = form.step === 'login'
        ? await this.login.signInTo(target.returnTo, session, form.username ?? '', form.password ?? '', req.ip)
        : ({ kind: 'error', status: 400, view: UNKNOWN_FORM } as const);
      return this.send(req, res, outcome);
    }
    const requestId = target.requestId;
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
        outcome = { kind: 'error', status: 400, view: UNKNOWN_FORM };
    }
    this.send(req, res, outcome);
  }

  /**
   * Ends this browser's session (CSRF-protected: a cross-site page cannot sign a person out), then back to
   * `return_to` when the form names a local page, else a "signed out" page. The OAuth grants stay.
   */
  @Post('logout')
  async logout(@Req() req: Request, @Res() res: Response): Promise<void> {
    const form = readOAuthForm(req);
    if (!this.tokens.checkCsrf(this.cookies.read(req, this.cookies.csrf), LOGOUT_FORM, form.csrf)) {
      return this.send(req, res, { kind: 'error', status: 403, view: FORM_EXPIRED });
    }
    const returnTo = this.returnPath(form.return_to);
    this.send(req, res, await this.login.logout(this.cookies.read(req, this.cookies.session), returnTo && this.signInUrl(returnTo)));
  }

  /** The sign-in page that returns to `returnTo` (a checked local path). */
  protected signInUrl(returnTo: string): string {
    return `${this.issuerPath}/${this.options.path}?return_to=${encodeURIComponent(returnTo)}`;
  }

  /** Renders an outcome: cookies first, then a 303 to the client or a page with the security headers. */
  protected send(req: Request, res: Response, outcome: LoginOutcome): void {
    const cookies: string[] = [];
    if ('session' in outcome && outcome.session !== undefined) {
      cookies.push(
        outcome.session
          ? this.cookies.setCookie(this.cookies.session, outcome.session.token, this.options.sessionTtlSeconds)
          : this.cookies.setCookie(this.cookies.session, '', 0),
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
    const csrf = this.cookies.csrfValue(req);
    if (csrf.setCookie) cookies.push(csrf.setCookie);
    const page = this.page(outcome, csrf.value, req.headers['accept-language']);
    res.set(pageHeaders(outcome.kind === 'login' || outcome.kind === 'signup' || outcome.kind === 'consent' ? outcome.pending.redirectUri : undefined));
    if (cookies.length) res.setHeader('Set-Cookie', cookies);
    if ('retryAfterSeconds' in outcome && outcome.retryAfterSeconds) res.setHeader('Retry-After', String(outcome.retryAfterSeconds));
    const status = outcome.kind === 'consent' ? 200 : outcome.status;
    res.status(status).send(renderPage(page));
  }

  private page(outcome: Exclude<LoginOutcome, { kind: 'redirect' }>, csrfCookie: string, acceptLanguage: string | undefined): PageView {
    if (outcome.kind === 'error' || outcome.kind === 'notice') return { page: 'error', view: outcome.view };
    if (outcome.kind === 'signin') {
      const target = { returnTo: outcome.returnTo };
      return {
        page: 'login',
        view: { action: `?return_to=${encodeURIComponent(outcome.returnTo)}`, csrf: this.tokens.csrf(csrfCookie, formPurpose(target)), username: outcome.username, error: outcome.error },
      };
    }
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

  /** Exactly one `request` parameter of a plausible shape, or else exactly one `return_to` naming a registered local page. */
  private target(req: Request): Target | undefined {
    const params = new URL(req.originalUrl, 'http://x').searchParams;
    const ids = params.getAll('request');
    if (ids.length > 0) return ids.length === 1 && REQUEST_ID.test(ids[0]) ? { requestId: ids[0] } : undefined;
    const returns = params.getAll('return_to');
    const returnTo = returns.length === 1 ? this.returnPath(returns[0]) : undefined;
    return returnTo ? { returnTo } : undefined;
  }

  /** A local path under the issuer (localReturnPath) of a page registered in LoginReturnTargets, or undefined. */
  private returnPath(value: string | undefined): string | undefined {
    const path = localReturnPath(value, this.issuerPath);
    return path !== undefined && this.returnTargets.allows(path) ? path : undefined;
  }
}

/** What the CSRF token of the logout form is bound to (no request id: the browser's cookie is the binding). */
export const LOGOUT_FORM = 'logout';

/** What a login form's CSRF token is bound to: the request id, or the page it returns to. */
function formPurpose(target: Target): string {
  return 'requestId' in target ? target.requestId : `return_to:${target.returnTo}`;
}
