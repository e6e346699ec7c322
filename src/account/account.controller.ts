import { Controller, Get, Inject, OnModuleInit, Post, Req, Res, UseFilters } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Request, Response } from 'express';
import { OAUTH_CORE_OPTIONS } from '../core/oauth-core.module-definition';
import type { ResolvedOAuthCoreOptions } from '../core/oauth-core-options.interface';
import { readOAuthForm } from '../http/oauth-form';
import { BrowserSession, BrowserSessionsService } from '../login/browser-sessions.service';
import { FormTokens } from '../login/form-tokens';
import { LoginCookies } from '../login/login-cookies';
import { LOGOUT_FORM } from '../login/login.controller';
import { LOGIN_OPTIONS } from '../login/login.constants';
import { LoginReturnTargets } from '../login/login-return-targets';
import type { ResolvedLoginOptions } from '../login/login-options.interface';
import { LoginPageExceptionFilter } from '../login/login-page.filter';
import { pageHeaders } from '../login/login-pages';
import { FORM_EXPIRED, LoginService } from '../login/login.service';
import { describeScope } from '../login/scope-labels';
import { ACCOUNT_ACTIONS, ACCOUNT_OPTIONS, AccountAction } from './account.constants';
import type { ResolvedAccountOptions } from './account-options.interface';
import { renderDeactivate, renderDone, renderList, renderSession, SessionView } from './account-pages';
import { AccountService, AccountSession, appProvider, PLAIN_PARAMETER, SessionRef } from './account.service';

/** Fixed notices, chosen by code: nothing from the URL is ever echoed as a message. */
const NOTICES = {
  ended: 'The session was signed out.',
  ended_others: 'Every other session was signed out.',
  unknown_action: 'That account page does not exist here; these are your sessions.',
  unknown_session: 'That session was not found: it may have been signed out already. These are your sessions.',
  not_deactivated: 'The account could not be deactivated; nothing was changed. These are your sessions.',
} as const;
type Notice = keyof typeof NOTICES;

const PASSWORD_NEEDED = 'Enter your password to confirm.';

/**
 * The account page at `<issuer>/<path>` (HTTP only: which screen, cookies, redirects): the sessions list,
 * one session (`org.matrix.session_view`), its sign-out confirmation (`org.matrix.session_end`), and
 * deactivation (`org.matrix.account_deactivate`), behind the built-in login's browser session. Every POST
 * carries a CSRF token bound to the browser's CSRF cookie and to its browser session.
 */
@Controller()
@UseFilters(LoginPageExceptionFilter)
export class AccountController implements OnModuleInit {
  private readonly issuerPath: string;
  private tokens: FormTokens;
  private cookies: LoginCookies;
  private login: LoginService;
  private browserSessions: BrowserSessionsService;
  private loginOptions: ResolvedLoginOptions;

  constructor(
    protected readonly account: AccountService,
    private readonly moduleRef: ModuleRef,
    @Inject(ACCOUNT_OPTIONS) protected readonly options: ResolvedAccountOptions,
    @Inject(OAUTH_CORE_OPTIONS) core: ResolvedOAuthCoreOptions,
  ) {
    this.issuerPath = new URL(core.issuer).pathname.replace(/\/+$/, '');
  }

  /** The built-in login's pieces: the page runs on its browser session, cookies and form tokens. */
  onModuleInit(): void {
    this.tokens = appProvider(this.moduleRef, FormTokens, 'LoginModule');
    this.cookies = appProvider(this.moduleRef, LoginCookies, 'LoginModule');
    this.login = appProvider(this.moduleRef, LoginService, 'LoginModule');
    this.browserSessions = appProvider(this.moduleRef, BrowserSessionsService, 'LoginModule');
    this.loginOptions = appProvider(this.moduleRef, LOGIN_OPTIONS, 'LoginModule');
    // The sign-in and the logout send the browser back here, and to no page that did not register.
    appProvider(this.moduleRef, LoginReturnTargets, 'LoginModule').allow(this.path());
  }

  @Get()
  async show(@Req() req: Request, @Res() res: Response): Promise<void> {
    const params = new URL(req.originalUrl, 'http://x').searchParams;
    const session = await this.browserSessions.find(this.cookies.read(req, this.cookies.session));
    if (!session) return this.toSignIn(res, this.pagePath(params));
    const actionName = params.get('action');
    const action: AccountAction | undefined = actionName === null ? 'list' : ACCOUNT_ACTIONS[actionName as keyof typeof ACCOUNT_ACTIONS];
    if (!action) return this.list(req, res, session, 'unknown_action');
    if (action === 'list') return this.list(req, res, session, noticeOf(params.get('notice')));
    if (action === 'deactivate') return this.page(req, res, session, (csrf) => renderDeactivate({ ...this.form(session, csrf), listHref: this.path() }));
    const ref = sessionRef(params);
    const found = ref && (await this.account.findSession(session.userId, ref, session.id, req.headers['accept-language']));
    if (!found) return this.list(req, res, session, 'unknown_session');
    return this.sessionPage(req, res, session, found, action === 'end');
  }

  @Post()
  async submit(@Req() req: Request, @Res() res: Response): Promise<void> {
    const session = await this.browserSessions.find(this.cookies.read(req, this.cookies.session));
    if (!session) return this.toSignIn(res, this.path());
    const form = readOAuthForm(req);
    // Before anything else: a form not made by this server for this browser session is refused.
    if (!this.tokens.checkCsrf(this.cookies.read(req, this.cookies.csrf), this.formPurpose(session), form.csrf)) {
      return this.done(res, 403, FORM_EXPIRED);
    }
    switch (form.step) {
      case 'end': {
        const found = await this.account.findSession(session.userId, { grantId: form.session ?? '' }, session.id, req.headers['accept-language']);
        if (!found) return this.redirect(res, this.path({ notice: 'unknown_session' }));
        const refused = await this.reauthenticate(req, res, session, form.password);
        if (refused) return this.sessionPage(req, res, session, found, true, refused);
        await this.account.endSession(session.userId, { grantId: found.id });
        return this.redirect(res, this.path({ notice: 'ended' }));
      }
      case 'end_others': {
        const refused = await this.reauthenticate(req, res, session, form.password);
        if (refused) return this.list(req, res, session, undefined, refused);
        await this.account.endOtherSessions(session.userId, session.id);
        return this.redirect(res, this.path({ notice: 'ended_others' }));
      }
      case 'deactivate': {
        // Matrix: deactivation is destructive and final; the password is asked every time.
        const refused = await this.reauthenticate(req, res, session, form.password, true);
        if (refused) {
          return this.page(req, res, session, (csrf) => renderDeactivate({ ...this.form(session, csrf), listHref: this.path(), error: refused.error }), refused.status);
        }
        if (!(await this.account.deactivate(session.userId))) return this.list(req, res, session, 'not_deactivated');
        res.setHeader('Set-Cookie', this.cookies.setCookie(this.cookies.session, '', 0));
        return this.done(res, 200, { heading: 'Account deactivated', message: 'Every app and browser was signed out. Nobody can sign in to this account any more.' });
      }
      default:
        return this.redirect(res, this.path());
    }
  }

  /**
   * Null when the browser's password entry is recent enough (or the password given now is right, which
   * renews it); else the error to show. Failures count against the login form's brute-force limit.
   */
  private async reauthenticate(req: Request, res: Response, session: BrowserSession, password: string | undefined, always = false): Promise<{ status: number; error: string } | null> {
    if (!always && !this.isStale(session)) return null;
    if (!password) return { status: 200, error: PASSWORD_NEEDED };
    const checked = await this.login.verifyPassword(session.username, password, req.ip);
    if ('error' in checked) {
      if (checked.retryAfterSeconds) res.setHeader('Retry-After', String(checked.retryAfterSeconds));
      return { status: checked.status, error: checked.error };
    }
    await this.browserSessions.reauthenticated(session.id);
    return null;
  }

  private isStale(session: BrowserSession): boolean {
    return Date.now() - session.authenticatedAt.getTime() > this.options.reauthenticateAfterSeconds * 1000;
  }

  private async list(req: Request, res: Response, session: BrowserSession, notice?: Notice, refused?: { status: number; error: string }): Promise<void> {
    const lang = req.headers['accept-language'];
    const [sessions, browsers] = await Promise.all([
      this.account.listSessions(session.userId, session.id, lang),
      this.account.listBrowserSessions(session.userId, session.id),
    ]);
    const csrfCookie = this.cookies.csrfValue(req);
    this.page(
      req,
      res,
      session,
      (csrf) =>
        renderList({
          ...this.form(session, csrf),
          notice: notice && NOTICES[notice],
          error: refused?.error,
          sessions: sessions.map((s) => this.sessionView(s, true)),
          browserSessions: browsers.map((b) => ({ started: formatTime(b.startedAt), current: b.current })),
          hasOthers: sessions.some((s) => !s.currentBrowser) || browsers.some((b) => !b.current),
          needsPassword: this.isStale(session),
          logoutAction: `${this.issuerPath}/${this.loginOptions.path}/logout`,
          logoutCsrf: this.tokens.csrf(csrfCookie.value, LOGOUT_FORM),
          logoutReturnTo: this.path(),
          deactivateHref: this.path({ action: 'org.matrix.account_deactivate' }),
        }),
      refused?.status,
      csrfCookie,
    );
  }

  private sessionPage(req: Request, res: Response, session: BrowserSession, found: AccountSession, confirm: boolean, refused?: { status: number; error: string }): void {
    this.page(
      req,
      res,
      session,
      (csrf) => renderSession({ ...this.form(session, csrf), session: this.sessionView(found, false), confirm, needsPassword: this.isStale(session), listHref: this.path(), error: refused?.error }),
      refused?.status,
    );
  }

  /** Sends a page with the login pages' headers; `render` gets the CSRF token of this browser session's forms. */
  private page(req: Request, res: Response, session: BrowserSession, render: (csrf: string) => string, status = 200, csrfCookie = this.cookies.csrfValue(req)): void {
    if (csrfCookie.setCookie) res.setHeader('Set-Cookie', csrfCookie.setCookie);
    res.set(pageHeaders());
    res.status(status).send(render(this.tokens.csrf(csrfCookie.value, this.formPurpose(session))));
  }

  private done(res: Response, status: number, view: { heading: string; message: string }): void {
    res.set(pageHeaders());
    res.status(status).send(renderDone(view));
  }

  private form(session: BrowserSession, csrf: string) {
    return { action: this.path(), csrf, username: session.username };
  }

  private sessionView(s: AccountSession, links: boolean): SessionView {
    const ref: Record<string, string> = s.deviceId !== undefined ? { device_id: s.deviceId } : { session: s.id };
    return {
      id: s.id,
      clientName: s.client.clientName,
      clientUri: s.client.clientUri,
      deviceId: s.deviceId,
      started: formatTime(s.startedAt),
      lastUsed: s.lastUsedAt ? formatTime(s.lastUsedAt) : 'Not yet',
      scopes: s.scope.map(describeScope),
      currentBrowser: s.currentBrowser,
      viewHref: this.path({ action: 'org.matrix.session_view', ...ref }),
      endHref: this.path({ action: 'org.matrix.session_end', ...ref }),
      links,
    };
  }

  /** The account page's path with these parameters. */
  private path(params: Record<string, string> = {}): string {
    const query = new URLSearchParams(params).toString();
    return `${this.issuerPath}/${this.options.path}${query ? `?${query}` : ''}`;
  }

  /** This page again, with only the parameters it understands (so the sign-in's return_to is always local and plain). */
  private pagePath(params: URLSearchParams): string {
    const kept: Record<string, string> = {};
    for (const name of ['action', 'device_id', 'session']) {
      const value = params.get(name);
      if (value !== null && PLAIN_PARAMETER.test(value)) kept[name] = value;
    }
    return this.path(kept);
  }

  private toSignIn(res: Response, returnTo: string): void {
    this.redirect(res, `${this.issuerPath}/${this.loginOptions.path}?return_to=${encodeURIComponent(returnTo)}`);
  }

  private redirect(res: Response, url: string): void {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.redirect(303, url);
  }

  /** The account forms' CSRF tokens are bound to the browser session too: a new sign-in invalidates old forms. */
  private formPurpose(session: BrowserSession): string {
    return `account:${session.id}`;
  }
}

function noticeOf(code: string | null): Notice | undefined {
  return code !== null && Object.hasOwn(NOTICES, code) ? (code as Notice) : undefined;
}

/** `device_id=` (Matrix) or `session=` (a grant id); exactly one of them. */
function sessionRef(params: URLSearchParams): SessionRef | undefined {
  const devices = params.getAll('device_id');
  const grants = params.getAll('session');
  if (devices.length === 1 && grants.length === 0) return { deviceId: devices[0] };
  if (grants.length === 1 && devices.length === 0) return { grantId: grants[0] };
  return undefined;
}

function formatTime(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
