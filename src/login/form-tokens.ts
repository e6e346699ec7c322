import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Cookie values and form tokens are 256 random bits / HMAC-SHA-256 outputs, base64url. */
const VALUE = /^[A-Za-z0-9_-]{43}$/;

/**
 * CSRF protection of the login forms: signed double submit (OWASP CSRF Cheat Sheet). The browser holds a
 * random pre-session cookie; each form carries HMAC(secret, cookie, request id), which a cross-site page
 * can neither read nor compute, and which a cookie planted by a sibling subdomain does not match without
 * the secret. Every POST checks it before anything else.
 *
 * The same key signs the proof that a password was entered for one authorization request in one browser
 * session (prompt=login): the consent form carries it.
 */
export class FormTokens {
  constructor(private readonly secret: Buffer) {}

  static newCookieValue(): string {
    return randomBytes(32).toString('base64url');
  }

  static isCookieValue(value: string | undefined): value is string {
    return typeof value === 'string' && VALUE.test(value);
  }

  csrf(cookie: string, requestId: string): string {
    return this.mac('csrf', cookie, requestId);
  }

  checkCsrf(cookie: string | undefined, requestId: string, token: string | undefined): boolean {
    return FormTokens.isCookieValue(cookie) && this.equal(this.csrf(cookie, requestId), token);
  }

  /** Proof that the password was entered for this request in this browser session. */
  freshLogin(sessionId: string, requestId: string): string {
    return this.mac('fresh-login', sessionId, requestId);
  }

  checkFreshLogin(sessionId: string, requestId: string, token: string | undefined): boolean {
    return this.equal(this.freshLogin(sessionId, requestId), token);
  }

  private mac(purpose: string, ...parts: string[]): string {
    const h = createHmac('sha256', this.secret).update(purpose);
    for (const p of parts) h.update('\0').update(p);
    return h.digest('base64url');
  }

  private equal(expected: string, given: string | undefined): boolean {
    if (typeof given !== 'string' || given.length !== expected.length) return false;
    return timingSafeEqual(Buffer.from(expected), Buffer.from(given));
  }
}
