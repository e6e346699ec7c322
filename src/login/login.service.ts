import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { AuthorizationRequestError } from '../authorization/authorization-request.error';
import { AuthorizationService } from '../authorization/authorization.service';
import type { AuthorizationDenial, PendingAuthorization } from '../authorization/pending-authorization.interface';
import { BrowserSession, BrowserSessionsService } from './browser-sessions.service';
import { describeClient } from './client-view';
import { ConsentsService } from './consents.service';
import { FormTokens } from './form-tokens';
import type { LoginAuthorizationSteps } from './login-authorization.interface';
import { LOGIN_FAILURE_LIMITER, LOGIN_OPTIONS } from './login.constants';
import type { ResolvedLoginOptions } from './login-options.interface';
import type { ClientView, ErrorView } from './login-pages';
import type { LoginThrottle } from './login-throttle';
import { describeScope, ScopeLabel } from './scope-labels';
import { checkPassword, LocalUser, PASSWORD_MIN_LENGTH, UserInputError, UsersService } from './users.service';

/** One generic message for every failed login: it never says whether the username exists (OWASP ASVS 2.2). */
export const LOGIN_FAILED = 'The username or password is incorrect.';

/** What the login step decided; the controller turns it into HTTP (page, redirect, cookies). */
export type LoginOutcome =
  | { kind: 'redirect'; url: string; session?: SessionChange }
  | { kind: 'login'; status: number; pending: PendingAuthorization; username?: string; error?: string; retryAfterSeconds?: number; session?: SessionChange }
  | { kind: 'signup'; status: number; pending: PendingAuthorization; username?: string; error?: string; retryAfterSeconds?: number }
  | { kind: 'consent'; pending: PendingAuthorization; username: string; scopes: ScopeLabel[]; proof?: string; session?: SessionChange }
  | { kind: 'signin'; status: number; returnTo: string; username?: string; error?: string; retryAfterSeconds?: number; session?: SessionChange }
  | { kind: 'notice'; status: number; view: ErrorView; session?: SessionChange }
  | { kind: 'error'; status: number; view: ErrorView };

/** A new session cookie value, or null to clear it. */
export type SessionChange = { token: string } | null;

/** A form whose CSRF token does not fit this browser: expired, or not from this page. */
export const FORM_EXPIRED: ErrorView = { heading: 'Please try again', message: 'This form expired or did not come from this page. Go back, reload the page and submit it again.' };

export const REQUEST_GONE: ErrorView = {
  heading: 'This sign-in link is no longer valid',
  message: 'It has expired or was already used. Go back to the app and start signing in again.',
};

export const SIGNED_OUT: ErrorView = { heading: 'Signed out', message: 'This browser is no longer signed in. Apps you allowed stay signed in until you end their sessions.' };

export const SIGNUP_CLOSED: ErrorView = { heading: 'Sign-up is closed', message: 'This server does not let people create accounts. Ask its operator for one.' };


/**
 * The built-in login step (issue 13, "Who the user is"): which page a browser sees for a pending
 * authorization, and what each form does. Sessions, users and consents are in their services; the
 * request is ended through the authorization service (complete / deny), whose answer is where the
 * browser goes next.
 */
@Injectable()
export class LoginService implements OnModuleInit {
  private authorizations: LoginAuthorizationSteps;

  constructor(
    private readonly moduleRef: ModuleRef,
    @Inject(LOGIN_OPTIONS) private readonly options: ResolvedLoginOptions,
    @Inject(LOGIN_FAILURE_LIMITER) private readonly throttle: LoginThrottle,
    private readonly users: UsersService,
    private readonly sessions: BrowserSessionsService,
    private readonly consents: ConsentsService,
    private readonly tokens: FormTokens,
  ) {}

  /**
   * The authorization service of whichever module of the app provides it (AuthorizationModule): looked up
   * once all providers exist, so neither module imports the other's instance; startup fails without it.
   */
  onModuleInit(): void {
    try {
      this.authorizations = this.moduleRef.get(AuthorizationService, { strict: false });
    } catch {
      throw new Error('LoginModule needs the authorization endpoint: import AuthorizationModule in the same app');
    }
  }

  /** GET: the page for this request in this browser, or straight back to the client. */
  async show(requestId: string, sessionToken: string | undefined, screen?: 'signup'): Promise<LoginOutcome> {
    const pending = await this.authorizations.getPending(requestId);
    if (!pending) return { kind: 'error', status: 400, view: REQUEST_GONE };
    const session = await this.sessions.find(sessionToken);
    if (pending.prompt.includes('none')) {
      // OpenID Connect Core §3.1.2.1: no page may be shown; answer by redirect.
      if (!session) return this.deny(pending, 'login_required');
      if (await this.needsConsent(pending, session)) return this.deny(pending, 'consent_required');
      return this.complete(pending, session);
    }
    if ((screen === 'signup' || pending.prompt.includes('create')) && this.options.selfRegistration) {
      return { kind: 'signup', status: 200, pending };
    }
    if (!session) return { kind: 'login', status: 200, pending };
    // prompt=login: the password again, even in a signed-in browser (OpenID Connect Core §3.1.2.1).
    if (pending.prompt.includes('login')) return { kind: 'login', status: 200, pending, username: session.username };
    return this.proceed(pending, session, false);
  }

  /** POST of the login form. */
  async login(requestId: string, sessionToken: string | undefined, username: string, password: string, address: string | undefined): Promise<LoginOutcome> {
    const pending = await this.authorizations.getPending(requestId);
    if (!pending) return { kind: 'error', status: 400, view: REQUEST_GONE };
    const checked = await this.verifyPassword(username, password, address);
    if ('error' in checked) return { kind: 'login', pending, username, ...checked };
    return this.signIn(pending, sessionToken, checked.user.id);
  }

  /**
   * The password of `username`, under the login form's brute-force limit: the user, or the page's status,
   * message and Retry-After. Every form that asks for a password (login, re-authentication) goes through here.
   */
  async verifyPassword(username: string, password: string, address: string | undefined): Promise<{ user: LocalUser } | { status: number; error: string; retryAfterSeconds?: number }> {
    const attempt = await this.throttle.begin(username.trim().toLowerCase(), address);
    if (attempt.retryAfterSeconds > 0) return { status: 429, error: tooMany(attempt.retryAfterSeconds), retryAfterSeconds: attempt.retryAfterSeconds };
    const user = await this.users.authenticate(username, password);
    await attempt.end(user ? 'success' : 'failure');
    return user ? { user } : { status: 200, error: LOGIN_FAILED };
  }

  /**
   * GET of a sign-in without an authorization request (`?return_to=<local path>`, e.g. the account page):
   * a signed-in browser goes straight back, any other sees the login form. `returnTo` was checked by the
   * caller (localReturnPath): a path of this server.
   */
  async showSignIn(returnTo: string, sessionToken: string | undefined): Promise<LoginOutcome> {
    if (await this.sessions.find(sessionToken)) return { kind: 'redirect', url: returnTo };
    return { kind: 'signin', status: 200, returnTo };
  }

  /** POST of that form: a new browser session, then back to `returnTo`. */
  async signInTo(returnTo: string, sessionToken: string | undefined, username: string, password: string, address: string | undefined): Promise<LoginOutcome> {
    const checked = await this.verifyPassword(username, password, address);
    if ('error' in checked) return { kind: 'signin', returnTo, username, ...checked };
    await this.sessions.end(sessionToken);
    return { kind: 'redirect', url: returnTo, session: { token: await this.sessions.start(checked.user.id) } };
  }

  /**
   * POST of "sign out": ends this browser's session, nothing else. The grants made from it belong to their
   * clients and stay live (the account page ends those).
   */
  async logout(sessionToken: string | undefined, returnTo: string | undefined): Promise<LoginOutcome> {
    await this.sessions.end(sessionToken);
    if (returnTo) return { kind: 'redirect', url: returnTo, session: null };
    return { kind: 'notice', status: 200, view: SIGNED_OUT, session: null };
  }

  /** POST of the sign-up form (prompt=create, when self-registration is on). */
  async signup(requestId: string, sessionToken: string | undefined, username: string, password: string, confirm: string, address: string | undefined): Promise<LoginOutcome> {
    if (!this.options.selfRegistration) return { kind: 'error', status: 404, view: SIGNUP_CLOSED };
    const pending = await this.authorizations.getPending(requestId);
    if (!pending) return { kind: 'error', status: 400, view: REQUEST_GONE };
    // Sign-ups are counted against the address like failed logins: a taken name is an answer worth limiting.
    const attempt = await this.throttle.begin('', address);
    if (attempt.retryAfterSeconds > 0) {
      return { kind: 'signup', status: 429, pending, username, error: tooMany(attempt.retryAfterSeconds), retryAfterSeconds: attempt.retryAfterSeconds };
    }
    try {
      if (password !== confirm) throw new UserInputError('The two passwords differ.');
      checkPassword(password);
      const user = await this.users.create(username, password);
      await attempt.end('success');
      return this.signIn(pending, sessionToken, user.id);
    } catch (err) {
      if (!(err instanceof UserInputError)) throw err;
      await attempt.end('failure');
      return { kind: 'signup', status: 200, pending, username, error: err.message };
    }
  }

  /** POST of the consent form: Allow or Deny. */
  async consent(requestId: string, sessionToken: string | undefined, decision: string | undefined, proof: string | undefined): Promise<LoginOutcome> {
    const pending = await this.authorizations.getPending(requestId);
    if (!pending) return { kind: 'error', status: 400, view: REQUEST_GONE };
    const session = await this.sessions.find(sessionToken);
    // Signed out meanwhile (elsewhere, or disabled), or prompt=login without the password entered for this request.
    if (!session) return { kind: 'login', status: 200, pending };
    const fresh = this.tokens.checkFreshLogin(session.id, pending.id, proof);
    if (pending.prompt.includes('login') && !fresh) return { kind: 'login', status: 200, pending, username: session.username };
    if (decision === 'allow') {
      await this.consents.remember(session.userId, pending.clientId, pending.scope);
      return this.complete(pending, session);
    }
    if (decision === 'deny') return this.deny(pending, 'access_denied');
    return this.consentPage(pending, session, fresh);
  }

  /** POST "sign in as someone else": ends this browser's session, back to the login form. */
  async switchAccount(requestId: string, sessionToken: string | undefined): Promise<LoginOutcome> {
    const pending = await this.authorizations.getPending(requestId);
    if (!pending) return { kind: 'error', status: 400, view: REQUEST_GONE };
    await this.sessions.end(sessionToken);
    return { kind: 'login', status: 200, pending, session: null };
  }

  /**
   * What the consent page shows of the client, in the language the browser prefers where the client
   * registered one (`client_name#fr`, …): only http(s) links, only an https logo (the CSP allows no other).
   */
  clientView(pending: PendingAuthorization, acceptLanguage?: string): ClientView {
    return describeClient(pending.clientId, pending.clientMetadata, acceptLanguage);
  }

  minPasswordLength(): number {
    return PASSWORD_MIN_LENGTH;
  }

  /** The password was entered (or an account created): a new session replaces whatever this browser had. */
  private async signIn(pending: PendingAuthorization, oldToken: string | undefined, userId: string): Promise<LoginOutcome> {
    await this.sessions.end(oldToken);
    const token = await this.sessions.start(userId);
    const session = await this.sessions.find(token);
    if (!session) return { kind: 'login', status: 200, pending, session: null };
    const outcome = await this.proceed(pending, session, true);
    return { ...outcome, session: { token } } as LoginOutcome;
  }

  /** A signed-in browser: the consent page when this client was not yet allowed this scope, else back to the client. */
  private async proceed(pending: PendingAuthorization, session: BrowserSession, fresh: boolean): Promise<LoginOutcome> {
    if (await this.needsConsent(pending, session)) return this.consentPage(pending, session, fresh);
    return this.complete(pending, session);
  }

  private consentPage(pending: PendingAuthorization, session: BrowserSession, fresh: boolean): LoginOutcome {
    return {
      kind: 'consent',
      pending,
      username: session.username,
      scopes: pending.scope.map(describeScope),
      proof: fresh ? this.tokens.freshLogin(session.id, pending.id) : undefined,
    };
  }

  private async needsConsent(pending: PendingAuthorization, session: BrowserSession): Promise<boolean> {
    return pending.prompt.includes('consent') || !(await this.consents.covers(session.userId, pending.clientId, pending.scope));
  }

  private async complete(pending: PendingAuthorization, session: BrowserSession): Promise<LoginOutcome> {
    try {
      return { kind: 'redirect', url: await this.authorizations.complete(pending.id, { subject: session.userId, scope: pending.scope, browserSessionId: session.id }) };
    } catch (err) {
      if (err instanceof AuthorizationRequestError) return { kind: 'error', status: 400, view: REQUEST_GONE };
      throw err;
    }
  }

  private async deny(pending: PendingAuthorization, error: AuthorizationDenial): Promise<LoginOutcome> {
    try {
      return { kind: 'redirect', url: await this.authorizations.deny(pending.id, error) };
    } catch (err) {
      if (err instanceof AuthorizationRequestError) return { kind: 'error', status: 400, view: REQUEST_GONE };
      throw err;
    }
  }
}

function tooMany(seconds: number): string {
  return `Too many failed attempts. Try again in ${seconds} second${seconds === 1 ? '' : 's'}.`;
}
