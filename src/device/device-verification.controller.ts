import { Controller, Get, Inject, Post, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { OAUTH_CORE_OPTIONS } from '../core/oauth-core.module-definition';
import type { ResolvedOAuthCoreOptions } from '../core/oauth-core-options.interface';
import { pageCookie, readCookie } from '../http/cookies';
import { readOAuthForm } from '../http/oauth-form';
import { bufferOAuthBody } from '../http/request-body';
import { FormTokens } from '../login/form-tokens';
import { LoginPageExceptionFilter } from '../login/login-page.filter';
import { pageHeaders, renderInLayout } from '../login/login-pages';
import { DeviceAuthorizationService } from './device-authorization.service';
import { DEVICE_AUTHORIZATION_OPTIONS } from './device.constants';
import type { ResolvedDeviceAuthorizationOptions } from './device-options.interface';
import { renderEnterCodePage, renderResultPage } from './device-pages';

/** What the CSRF token of the verification form is bound to, besides the browser's cookie. */
const CSRF_PURPOSE = 'device-verification';

/**
 * The verification page (RFC 8628 §3.3) at `<verificationPath>`: a form for the user code
 * (`?user_code=` fills it in, verification_uri_complete), then the login step; `?result=` is where the
 * login step sends the browser once the person answered. HTTP only: the decisions are the service's.
 * Cookies: a CSRF cookie of its own, the forms' tokens bound to it (signed double submit, as the login's).
 */
@Controller()
@UseFilters(LoginPageExceptionFilter)
export class DeviceVerificationController {
  private readonly tokens: FormTokens;
  private readonly secure: boolean;
  private readonly csrfCookie: string;
  private readonly action: string;

  constructor(
    protected readonly devices: DeviceAuthorizationService,
    @Inject(DEVICE_AUTHORIZATION_OPTIONS) options: ResolvedDeviceAuthorizationOptions,
    @Inject(OAUTH_CORE_OPTIONS) core: ResolvedOAuthCoreOptions,
  ) {
    this.tokens = new FormTokens(options.secret);
    this.secure = core.issuer.startsWith('https:');
    // RFC 6265bis §4.1.3.2: under https, a __Host- cookie that no sibling subdomain can set or shadow.
    this.csrfCookie = `${this.secure ? '__Host-' : ''}oauth_device_csrf`;
    this.action = new URL(devices.verificationUri).pathname;
  }

  @Get()
  show(@Req() req: Request, @Res() res: Response): void {
    const query = new URL(req.originalUrl, 'http://x').searchParams;
    const result = query.get('result');
    if (result === 'approved' || result === 'denied') {
      res.set(pageHeaders());
      res.status(200).send(renderResultPage(result));
      return;
    }
    this.form(req, res, 200, query.get('user_code')?.slice(0, 32));
  }

  @Post()
  async submit(@Req() req: Request, @Res() res: Response): Promise<void> {
    await new Promise<void>((resolve) => bufferOAuthBody(req, resolve));
    const form = readOAuthForm(req);
    // Before anything else: a form not made by this server for this browser is refused.
    if (!this.tokens.checkCsrf(readCookie(req, this.csrfCookie), CSRF_PURPOSE, form.csrf)) {
      res.set(pageHeaders());
      res.status(403).send(renderInLayout('Please try again', '<h1>Please try again</h1><p>This form expired or did not come from this page. Go back, reload the page and submit it again.</p>'));
      return;
    }
    const outcome = await this.devices.enterUserCode(form.user_code ?? '', req.ip);
    if (outcome.kind === 'login') {
      // 303: the browser follows with a GET to the login step.
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('Referrer-Policy', 'no-referrer');
      res.redirect(303, outcome.url);
      return;
    }
    if (outcome.retryAfterSeconds) res.setHeader('Retry-After', String(outcome.retryAfterSeconds));
    this.form(req, res, outcome.status, form.user_code?.slice(0, 32), outcome.error);
  }

  /** The code form, with a CSRF token bound to this browser's cookie (set now when it has none). */
  private form(req: Request, res: Response, status: number, userCode?: string, error?: string): void {
    let cookie = readCookie(req, this.csrfCookie);
    if (!FormTokens.isCookieValue(cookie)) {
      cookie = FormTokens.newCookieValue();
      res.setHeader('Set-Cookie', pageCookie(this.csrfCookie, cookie, this.secure));
    }
    // The form's 303 goes to the login step: form-action must allow it when the login is another server's.
    res.set(pageHeaders(this.devices.loginTarget()));
    res.status(status).send(renderEnterCodePage({ action: this.action, csrf: this.tokens.csrf(cookie, CSRF_PURPOSE), userCode, error }));
  }
}
