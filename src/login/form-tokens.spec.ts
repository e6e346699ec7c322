import { randomBytes } from 'node:crypto';
import { FormTokens } from './form-tokens';

describe('FormTokens (signed double-submit CSRF tokens)', () => {
  const tokens = new FormTokens(randomBytes(32));
  const cookie = FormTokens.newCookieValue();

  it('accepts the token made for this cookie and this request', () => {
    expect(tokens.checkCsrf(cookie, 'req-1', tokens.csrf(cookie, 'req-1'))).toBe(true);
  });

  it('refuses a missing token, another request\'s, another browser\'s, or a token without its cookie', () => {
    expect(tokens.checkCsrf(cookie, 'req-1', undefined)).toBe(false);
    expect(tokens.checkCsrf(cookie, 'req-1', '')).toBe(false);
    expect(tokens.checkCsrf(cookie, 'req-1', tokens.csrf(cookie, 'req-2'))).toBe(false);
    expect(tokens.checkCsrf(cookie, 'req-1', tokens.csrf(FormTokens.newCookieValue(), 'req-1'))).toBe(false);
    expect(tokens.checkCsrf(undefined, 'req-1', tokens.csrf(cookie, 'req-1'))).toBe(false);
  });

  it('refuses the plain double submit (the cookie value itself) and a token signed with another key', () => {
    expect(tokens.checkCsrf(cookie, 'req-1', cookie)).toBe(false);
    expect(tokens.checkCsrf(cookie, 'req-1', new FormTokens(randomBytes(32)).csrf(cookie, 'req-1'))).toBe(false);
  });

  it('binds the fresh-login proof to the session and the request', () => {
    const proof = tokens.freshLogin('session-a', 'req-1');
    expect(tokens.checkFreshLogin('session-a', 'req-1', proof)).toBe(true);
    expect(tokens.checkFreshLogin('session-b', 'req-1', proof)).toBe(false);
    expect(tokens.checkFreshLogin('session-a', 'req-2', proof)).toBe(false);
    expect(tokens.checkFreshLogin('session-a', 'req-1', tokens.csrf('session-a', 'req-1'))).toBe(false);
  });
});
