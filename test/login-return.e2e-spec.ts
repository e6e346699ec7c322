import { TestBrowser, text } from './support/browser';
import { LoginHarness, startLoginHarness } from './support/login-harness';

/** The sign-in without an authorization request (`?return_to=`), and the browser-session logout. */
describe('built-in login: sign-in that returns to a local page, and logout', () => {
  let h: LoginHarness;
  beforeAll(async () => {
    h = await startLoginHarness({ LOGIN_FAILURES_PER_USERNAME_ADDRESS: '1000', LOGIN_FAILURES_PER_ADDRESS: '1000' });
  });
  afterAll(() => h.close());

  const sessions = async (userId: string) =>
    (await h.pool.query('SELECT ended_at IS NULL AS live FROM browser_sessions WHERE user_id = $1 ORDER BY created_at', [userId])).rows.map((r) => r.live);

  it('signs in and sends the browser back to the local page it came from, with a new browser session', async () => {
    const user = await h.user();
    const b = new TestBrowser(h.url);
    const page = await b.get(`${h.url}/login?return_to=${encodeURIComponent('/account?x=1')}`);
    expect(page.status).toBe(200);
    expect(text(page.doc.querySelector('h1'))).toBe('Sign in');
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const form = page.doc.querySelector('form')!;
    const fields = Object.fromEntries(form.querySelectorAll('input[type=hidden]').map((i) => [i.getAttribute('name')!, i.getAttribute('value')!]));
    const res = await fetch(new URL(form.getAttribute('action')!, page.url), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: b.cookieHeader() },
      body: new URLSearchParams({ ...fields, username: user.username, password: user.password }),
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/account?x=1');
    expect(res.headers.getSetCookie().some((c) => c.startsWith('oauth_session='))).toBe(true);
    expect(await sessions(user.id)).toEqual([true]);
  });

  it('sends an already signed-in browser straight back', async () => {
    const user = await h.user();
    const b = new TestBrowser(h.url);
    await b.submit(await b.get(`${h.url}/login?return_to=/account?p=a`), { username: user.username, password: user.password });
    const res = await fetch(`${h.url}/login?return_to=/account?p=b`, { redirect: 'manual', headers: { Cookie: b.cookieHeader() } });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/account?p=b');
  });

  it.each([
    'https://evil.example/',
    '//evil.example/',
    '/\\evil.example/',
    '/%2e%2e/evil',
    'evil',
    // Local, but not a page that registered as a return target: an authorization request of an
    // attacker's client would turn the genuine sign-in into a redirect to that client's redirect URI.
    '/oauth2/authorize?client_id=evil-app&redirect_uri=https://evil.example/cb&response_type=code&prompt=none',
    '/somewhere-evil',
    '/accounting-evil',
    '/login?return_to=/account&evil',
  ])('refuses return_to=%j with an error page, and no redirect anywhere', async (returnTo) => {
    const res = await fetch(`${h.url}/login?return_to=${encodeURIComponent(returnTo)}`, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).not.toContain('evil');
  });

  it('refuses a sign-in POST whose CSRF token is missing or was made for another return page', async () => {
    const user = await h.user();
    const b = new TestBrowser(h.url);
    const page = await b.get(`${h.url}/login?return_to=/account?p=a`);
    const csrf = page.doc.querySelector('input[name=csrf]')!.getAttribute('value')!;
    const missing = await b.post(`${h.url}/login?return_to=/account?p=a`, { step: 'login', username: user.username, password: user.password });
    expect(missing.status).toBe(403);
    const other = await b.post(`${h.url}/login?return_to=/account?p=b`, { step: 'login', csrf, username: user.username, password: user.password });
    expect(other.status).toBe(403);
    expect(await sessions(user.id)).toEqual([]);
  });

  it('logout ends the browser session only after a CSRF check, and leaves the grants of its user live', async () => {
    const user = await h.user();
    const clientId = await h.client();
    const b = new TestBrowser(h.url);
    await b.submit(await b.get(`${h.url}/login?return_to=/account?p=a`), { username: user.username, password: user.password });
    const { rows: [grant] } = await h.pool.query(`INSERT INTO grants (client_id, subject) VALUES ($1, $2) RETURNING id`, [clientId, user.id]);
    const refused = await b.post(`${h.url}/login/logout`, {});
    expect(refused.status).toBe(403);
    expect(await sessions(user.id)).toEqual([true]);
    // The logout form's token, as the account page renders it: bound to the browser's CSRF cookie.
    const { FormTokens } = await import('../src/login/form-tokens');
    const { LOGOUT_FORM } = await import('../src/login/login.controller');
    const csrf = h.app.get(FormTokens).csrf(b.cookies.get('oauth_csrf')!, LOGOUT_FORM);
    const done = await b.post(`${h.url}/login/logout`, { csrf });
    expect(done.status).toBe(200);
    expect(text(done.doc.querySelector('h1'))).toBe('Signed out');
    expect(b.cookies.has('oauth_session')).toBe(false);
    expect(await sessions(user.id)).toEqual([false]);
    const { rows } = await h.pool.query('SELECT revoked_at FROM grants WHERE id = $1', [grant.id]);
    expect(rows).toEqual([{ revoked_at: null }]);
  });

  it('logout goes back to the sign-in of a registered page only; any other return_to ends on the signed-out page', async () => {
    const { FormTokens } = await import('../src/login/form-tokens');
    const { LOGOUT_FORM } = await import('../src/login/login.controller');
    const user = await h.user();
    const logout = async (returnTo: string) => {
      const b = new TestBrowser(h.url);
      await b.submit(await b.get(`${h.url}/login?return_to=/account`), { username: user.username, password: user.password });
      const csrf = h.app.get(FormTokens).csrf(b.cookies.get('oauth_csrf')!, LOGOUT_FORM);
      return fetch(`${h.url}/login/logout`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: b.cookieHeader() },
        body: new URLSearchParams({ csrf, return_to: returnTo }),
      });
    };
    const home = await logout('/account?action=org.matrix.sessions_list');
    expect(home.status).toBe(303);
    expect(home.headers.get('location')).toBe(`/login?return_to=${encodeURIComponent('/account?action=org.matrix.sessions_list')}`);
    for (const returnTo of ['/oauth2/authorize?client_id=evil-app&redirect_uri=https://evil.example/cb&response_type=code', '/somewhere-evil']) {
      const res = await logout(returnTo);
      expect(res.status).toBe(200);
      expect(res.headers.get('location')).toBeNull();
      const html = await res.text();
      expect(html).toContain('Signed out');
      expect(html).not.toContain('evil');
    }
    expect(await sessions(user.id)).toEqual([false, false, false]);
  });
});
