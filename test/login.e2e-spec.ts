import { createHash } from 'node:crypto';
import { TestBrowser, text, Page } from './support/browser';
import { LoginHarness, PASSWORD, startLoginHarness } from './support/login-harness';

/** The browser landed on the client's redirect URI with a code. */
function codeOf(b: TestBrowser): string {
  expect(b.clientRedirect).toBeDefined();
  const code = new URL(b.clientRedirect!).searchParams.get('code');
  expect(code).toBeTruthy();
  return code!;
}

function errorOf(b: TestBrowser): string | null {
  expect(b.clientRedirect).toBeDefined();
  return new URL(b.clientRedirect!).searchParams.get('error');
}

const title = (p: Page) => text(p.doc.querySelector('title'));

async function signIn(b: TestBrowser, page: Page, username: string, password = PASSWORD): Promise<Page> {
  expect(title(page)).toBe('Sign in');
  return b.submit(page, { username, password });
}

describe('built-in login: pages, sessions, consent', () => {
  let h: LoginHarness;
  beforeAll(async () => {
    h = await startLoginHarness({ LOGIN_FAILURES_PER_USERNAME_ADDRESS: '1000', LOGIN_FAILURES_PER_ADDRESS: '1000' });
  });
  afterAll(() => h.close());

  it('logs in, asks consent with the client and the Matrix scopes in words, and sends the browser back with a code', async () => {
    const clientId = await h.client({ client_name: 'Element', client_uri: 'https://element.example', logo_uri: 'https://element.example/logo.png', tos_uri: 'https://element.example/tos', policy_uri: 'https://element.example/privacy' });
    const user = await h.user();
    const b = new TestBrowser(h.url);
    const login = await h.authorize(b, clientId, { scope: 'urn:matrix:client:api:* urn:matrix:client:device:AABBCC', state: 'state-1' });
    const verifier = h.lastVerifier!;
    expect(login.status).toBe(200);
    expect(text(login.doc.querySelector('main p'))).toContain('Element');
    const consent = await signIn(b, login, user.username);
    expect(title(consent)).toBe('Allow access?');
    const main = text(consent.doc.querySelector('main'));
    expect(main).toContain('Element');
    expect(main).toContain('Full access to your Matrix account');
    expect(main).toContain('device ID AABBCC');
    expect(main).toContain(`Signed in as ${user.username}`);
    expect(consent.doc.querySelector('img.logo')?.getAttribute('src')).toBe('https://element.example/logo.png');
    const links = consent.doc.querySelectorAll('a').map((a) => a.getAttribute('href'));
    expect(links).toEqual(expect.arrayContaining(['https://element.example/', 'https://element.example/tos', 'https://element.example/privacy']));

    await b.submit(consent, {}, { name: 'decision', value: 'allow' });
    const code = codeOf(b);
    const back = new URL(b.clientRedirect!);
    expect(`${back.origin}${back.pathname}`).toBe(h.redirectUri);
    expect(back.searchParams.get('state')).toBe('state-1');
    expect(back.searchParams.get('iss')).toBe('http://localhost:3000');
    // The code is good at the token endpoint, for a grant whose subject is the user.
    const token = await fetch(`${h.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: h.redirectUri, client_id: clientId, code_verifier: verifier }),
    });
    expect(token.status).toBe(200);
    const { grant_id: _ignored, ...tokens } = (await token.json()) as Record<string, unknown>;
    expect(tokens).toMatchObject({ token_type: 'Bearer', access_token: expect.stringMatching(/^oat_/), refresh_token: expect.stringMatching(/^ort_/) });
    const { rows: grants } = await h.pool.query('SELECT subject, scope FROM grants WHERE client_id = $1', [clientId]);
    expect(grants).toEqual([{ subject: user.id, scope: 'urn:matrix:client:api:* urn:matrix:client:device:AABBCC' }]);
    const { rows: consents } = await h.pool.query('SELECT scope FROM consents WHERE subject = $1 AND client_id = $2', [user.id, clientId]);
    expect(consents).toEqual([{ scope: ['urn:matrix:client:api:*', 'urn:matrix:client:device:AABBCC'].sort() }]);
  });

  it('keeps the browser signed in with an HttpOnly, SameSite=Lax cookie whose value is stored only as a hash', async () => {
    const clientId = await h.client();
    const user = await h.user();
    const b = new TestBrowser(h.url);
    const consent = await signIn(b, await h.authorize(b, clientId), user.username);
    const setCookie = b.answers.at(-1)!.headers.getSetCookie().find((c) => c.startsWith('oauth_session='))!;
    expect(setCookie).toMatch(/; HttpOnly/);
    expect(setCookie).toMatch(/; SameSite=Lax/);
    expect(setCookie).not.toMatch(/Secure/); // an http issuer (localhost)
    expect(setCookie).toMatch(/Max-Age=604800/);
    const value = b.cookies.get('oauth_session')!;
    const { rows } = await h.pool.query('SELECT token_hash, ended_at FROM browser_sessions WHERE user_id = $1', [user.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0].ended_at).toBeNull();
    expect(rows[0].token_hash.toString('hex')).toBe(createHash('sha256').update(value).digest('hex'));
    expect(title(consent)).toBe('Allow access?');
  });

  it('skips the password, and the consent once given, on a second authorization in the same browser', async () => {
    const clientId = await h.client();
    const user = await h.user();
    const b = new TestBrowser(h.url);
    await b.submit(await signIn(b, await h.authorize(b, clientId), user.username), {}, { name: 'decision', value: 'allow' });
    codeOf(b);
    const again = await h.authorize(b, clientId);
    expect(again.html).toBe('');
    codeOf(b);
    // Another browser has no session: the password again.
    const other = new TestBrowser(h.url);
    expect(title(await h.authorize(other, clientId))).toBe('Sign in');
  });

  it('asks again when the client wants a scope not yet allowed, and remembers the union', async () => {
    const clientId = await h.client();
    const user = await h.user();
    const b = new TestBrowser(h.url);
    await b.submit(await signIn(b, await h.authorize(b, clientId, { scope: 'openid' }), user.username), {}, { name: 'decision', value: 'allow' });
    codeOf(b);
    const wider = await h.authorize(b, clientId, { scope: 'openid urn:matrix:client:api:*' });
    expect(title(wider)).toBe('Allow access?');
    await b.submit(wider, {}, { name: 'decision', value: 'allow' });
    codeOf(b);
    const { rows } = await h.pool.query('SELECT scope FROM consents WHERE subject = $1 AND client_id = $2', [user.id, clientId]);
    expect(rows[0].scope).toEqual(['openid', 'urn:matrix:client:api:*']);
    // A narrower request is covered: no page.
    await h.authorize(b, clientId, { scope: 'openid' });
    codeOf(b);
  });

  it('answers access_denied to the client when the person denies', async () => {
    const clientId = await h.client();
    const user = await h.user();
    const b = new TestBrowser(h.url);
    await b.submit(await signIn(b, await h.authorize(b, clientId), user.username), {}, { name: 'decision', value: 'deny' });
    expect(errorOf(b)).toBe('access_denied');
    const { rows } = await h.pool.query('SELECT 1 FROM consents WHERE subject = $1 AND client_id = $2', [user.id, clientId]);
    expect(rows).toHaveLength(0);
  });

  it('prompt=login asks for the password even in a signed-in browser, and its consent needs that fresh login', async () => {
    const clientId = await h.client();
    const user = await h.user();
    const b = new TestBrowser(h.url);
    await b.submit(await signIn(b, await h.authorize(b, clientId), user.username), {}, { name: 'decision', value: 'allow' });
    codeOf(b);
    const page = await h.authorize(b, clientId, { prompt: 'login' });
    expect(title(page)).toBe('Sign in');
    expect(page.doc.querySelector('#username')?.getAttribute('value')).toBe(user.username);
    // Skipping the password by posting the consent form straight away does not work.
    const skipped = await b.submit(page, { step: 'consent', decision: 'allow' });
    expect(title(skipped)).toBe('Sign in');
    expect(b.clientRedirect).toBeUndefined();
    // With the password: consent already given, so straight back with a code.
    await b.submit(skipped, { password: PASSWORD });
    codeOf(b);
  });

  it('prompt=none answers login_required without a session, consent_required without consent, and a code with both, never a page', async () => {
    const clientId = await h.client();
    const user = await h.user();
    const b = new TestBrowser(h.url);
    await h.authorize(b, clientId, { prompt: 'none' });
    expect(errorOf(b)).toBe('login_required');
    const login = await h.authorize(b, clientId);
    await signIn(b, login, user.username); // signed in, consent page left unanswered
    await h.authorize(b, clientId, { prompt: 'none' });
    expect(errorOf(b)).toBe('consent_required');
    await b.submit(await h.authorize(b, clientId), {}, { name: 'decision', value: 'allow' });
    codeOf(b);
    await h.authorize(b, clientId, { prompt: 'none' });
    codeOf(b);
  });

  it('"sign in as someone else" ends the session', async () => {
    const clientId = await h.client();
    const user = await h.user();
    const b = new TestBrowser(h.url);
    const consent = await signIn(b, await h.authorize(b, clientId), user.username);
    const forms = consent.doc.querySelectorAll('form');
    const switchForm = forms.find((f) => f.querySelector('input[name=step]')?.getAttribute('value') === 'switch')!;
    const csrf = switchForm.querySelector('input[name=csrf]')!.getAttribute('value')!;
    const page = await b.post(new URL(switchForm.getAttribute('action')!, consent.url).toString(), { csrf, step: 'switch' });
    expect(title(page)).toBe('Sign in');
    expect(b.cookies.has('oauth_session')).toBe(false);
    const { rows } = await h.pool.query('SELECT ended_at FROM browser_sessions WHERE user_id = $1', [user.id]);
    expect(rows[0].ended_at).not.toBeNull();
  });

  describe('CSRF', () => {
    it.each([
      ['missing', (_p: Page, _b: TestBrowser) => ({ csrf: '' })],
      ['wrong', () => ({ csrf: 'A'.repeat(43) })],
    ])('refuses a login POST whose token is %s (403), and signs nobody in', async (_what, override) => {
      const clientId = await h.client();
      const user = await h.user();
      const b = new TestBrowser(h.url);
      const page = await h.authorize(b, clientId);
      const refused = await b.submit(page, { username: user.username, password: PASSWORD, ...override(page, b) });
      expect(refused.status).toBe(403);
      expect(title(refused)).toBe('Sign-in problem');
      expect(b.cookies.has('oauth_session')).toBe(false);
      const { rows } = await h.pool.query('SELECT 1 FROM browser_sessions WHERE user_id = $1', [user.id]);
      expect(rows).toHaveLength(0);
    });

    it('refuses a form token from another browser (the token is bound to the pre-session cookie) and from another request', async () => {
      const clientId = await h.client();
      const user = await h.user();
      const attacker = new TestBrowser(h.url);
      const attackerPage = await h.authorize(attacker, clientId);
      const stolen = attackerPage.doc.querySelector('input[name=csrf]')!.getAttribute('value')!;
      const victim = new TestBrowser(h.url);
      const victimPage = await h.authorize(victim, clientId);
      expect((await victim.submit(victimPage, { username: user.username, password: PASSWORD, csrf: stolen })).status).toBe(403);
      // The victim's own token, for another pending request of the same browser.
      const otherUrl = await h.loginUrl(victim, clientId);
      const victimToken = victimPage.doc.querySelector('input[name=csrf]')!.getAttribute('value')!;
      expect((await victim.post(otherUrl, { csrf: victimToken, step: 'login', username: user.username, password: PASSWORD })).status).toBe(403);
    });

    it('refuses a consent POST without the token: a cross-site form cannot approve a client', async () => {
      const clientId = await h.client();
      const user = await h.user();
      const b = new TestBrowser(h.url);
      const consent = await signIn(b, await h.authorize(b, clientId), user.username);
      const refused = await b.submit(consent, { csrf: '' }, { name: 'decision', value: 'allow' });
      expect(refused.status).toBe(403);
      expect(b.clientRedirect).toBeUndefined();
      const { rows } = await h.pool.query('SELECT 1 FROM consents WHERE subject = $1', [user.id]);
      expect(rows).toHaveLength(0);
    });
  });

  it('puts the clickjacking and caching headers on every page: login, failed login, consent, errors', async () => {
    const clientId = await h.client();
    const user = await h.user();
    const b = new TestBrowser(h.url);
    const login = await h.authorize(b, clientId);
    const failed = await b.submit(login, { username: user.username, password: 'wrong password' });
    const consent = await b.submit(failed, { username: user.username, password: PASSWORD });
    const csrfError = await b.submit(consent, { csrf: 'x' }, { name: 'decision', value: 'allow' });
    const unknown = await b.get(`${h.url}/login?request=00000000-0000-4000-8000-000000000000`);
    const noRequest = await b.get(`${h.url}/login`);
    const pages = [login, failed, consent, csrfError, unknown, noRequest];
    expect(pages.map((p) => p.status)).toEqual([200, 200, 200, 403, 400, 400]);
    for (const p of pages) {
      const csp = p.headers.get('content-security-policy')!;
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("default-src 'none'");
      expect(csp).not.toMatch(/script-src|unsafe-inline/);
      expect(p.headers.get('x-frame-options')).toBe('DENY');
      expect(p.headers.get('cache-control')).toBe('no-store');
      expect(p.headers.get('referrer-policy')).toBe('no-referrer');
      expect(p.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(p.doc.querySelector('meta[name=viewport]')).not.toBeNull();
    }
  });

  it('answers an unknown, used or malformed request id with a 400 page that tells nothing of the server', async () => {
    const clientId = await h.client();
    const user = await h.user();
    const b = new TestBrowser(h.url);
    const login = await h.authorize(b, clientId);
    const consent = await signIn(b, login, user.username);
    await b.submit(consent, {}, { name: 'decision', value: 'allow' });
    codeOf(b);
    // The same request again: already answered.
    const used = await b.get(login.url);
    for (const url of [login.url, `${h.url}/login?request=nope`, `${h.url}/login?request=a&request=b`, `${h.url}/login?request=${'%27'.repeat(50)}`]) {
      const p = await b.get(url);
      expect(p.status).toBe(400);
      expect(text(p.doc.querySelector('h1'))).toBe('This sign-in link is no longer valid');
      expect(p.html).not.toMatch(/error:|stack|at \w+ \(|SELECT|QueryFailed|uuid/i);
    }
    expect(used.status).toBe(400);
  });

  it('answers an expired request with the same 400 page, and a request for a client disabled meanwhile too', async () => {
    const clientId = await h.client();
    const b = new TestBrowser(h.url);
    const url = await h.loginUrl(b, clientId);
    const id = new URL(url).searchParams.get('request');
    await h.pool.query(`UPDATE authorization_requests SET expires_at = now() - interval '1 second' WHERE id = $1`, [id]);
    const expired = await b.get(url);
    expect(expired.status).toBe(400);
    expect(text(expired.doc.querySelector('h1'))).toBe('This sign-in link is no longer valid');
    const other = await h.loginUrl(b, clientId);
    await h.pool.query('UPDATE clients SET disabled_at = now() WHERE client_id = $1', [clientId]);
    expect((await b.get(other)).status).toBe(400);
  });

  it('stops honouring a browser session once its user is disabled or the session ended', async () => {
    const clientId = await h.client();
    const user = await h.user();
    const b = new TestBrowser(h.url);
    await b.submit(await signIn(b, await h.authorize(b, clientId), user.username), {}, { name: 'decision', value: 'allow' });
    codeOf(b);
    await h.pool.query('UPDATE users SET disabled_at = now() WHERE id = $1', [user.id]);
    expect(title(await h.authorize(b, clientId))).toBe('Sign in');
    await h.pool.query('UPDATE users SET disabled_at = NULL WHERE id = $1', [user.id]);
    await h.pool.query('UPDATE browser_sessions SET ended_at = now() WHERE user_id = $1', [user.id]);
    expect(title(await h.authorize(b, clientId))).toBe('Sign in');
  });

  it('shows the client name in the language the browser prefers, when the client registered one', async () => {
    const clientId = await h.client({ client_name: 'My app', 'client_name#fr': 'Mon appli', client_uri: 'https://app.example' });
    const french = await h.authorize(new TestBrowser(h.url, { 'Accept-Language': 'fr-CH, fr;q=0.9, en;q=0.8' }), clientId);
    expect(text(french.doc.querySelector('main p strong'))).toBe('Mon appli');
    const english = await h.authorize(new TestBrowser(h.url, { 'Accept-Language': 'en-GB' }), clientId);
    expect(text(english.doc.querySelector('main p strong'))).toBe('My app');
  });

  it('escapes what a client registered: a hostile client_name shows as text, javascript: links are dropped', async () => {
    const clientId = await h.client({ client_name: '<script>alert(1)</script>', client_uri: 'javascript:alert(1)', logo_uri: 'http://insecure.example/logo.png' });
    const user = await h.user();
    const b = new TestBrowser(h.url);
    const login = await h.authorize(b, clientId);
    expect(login.html).not.toContain('<script>alert(1)</script>');
    expect(text(login.doc.querySelector('main p strong'))).toBe('<script>alert(1)</script>');
    const consent = await signIn(b, login, user.username);
    expect(consent.html).not.toContain('javascript:');
    expect(consent.doc.querySelector('img')).toBeNull();
  });
});

describe('built-in login: no user enumeration, brute force', () => {
  let h: LoginHarness;
  beforeAll(async () => {
    h = await startLoginHarness({ LOGIN_FAILURES_PER_USERNAME_ADDRESS: '3', LOGIN_FAILURES_PER_ADDRESS: '6', LOGIN_FAILURE_WINDOW_SECONDS: '300' });
  });
  afterAll(() => h.close());

  it('answers an unknown username and a wrong password with the same status and the same page', async () => {
    const clientId = await h.client();
    const user = await h.user();
    const b = new TestBrowser(h.url);
    const page = await h.authorize(b, clientId);
    const wrongPassword = await b.submit(page, { username: user.username, password: 'not the password' });
    const unknownUser = await b.submit(page, { username: `${user.username}-nobody`, password: 'not the password' });
    expect(wrongPassword.status).toBe(200);
    expect(unknownUser.status).toBe(wrongPassword.status);
    // The same page but for the username typed, which the form shows back.
    expect(unknownUser.html.replace(`${user.username}-nobody`, user.username)).toBe(wrongPassword.html);
    expect(text(wrongPassword.doc.querySelector('.error'))).toBe('The username or password is incorrect.');
  });

  it('answers a disabled user like an unknown one', async () => {
    const clientId = await h.client();
    const user = await h.user();
    await h.pool.query('UPDATE users SET disabled_at = now() WHERE id = $1', [user.id]);
    const b = new TestBrowser(h.url);
    const page = await h.authorize(b, clientId);
    const refused = await b.submit(page, { username: user.username, password: PASSWORD });
    expect(text(refused.doc.querySelector('.error'))).toBe('The username or password is incorrect.');
  });

  it('limits failed logins per (username, address): past the limit even the right password is refused with 429 and Retry-After', async () => {
    const clientId = await h.client();
    const user = await h.user();
    const b = new TestBrowser(h.url, { 'X-Forwarded-For': '198.51.100.7' });
    const page = await h.authorize(b, clientId);
    for (let i = 0; i < 3; i++) expect((await b.submit(page, { username: user.username, password: `guess-${i}-wrong` })).status).toBe(200);
    const limited = await b.submit(page, { username: user.username, password: PASSWORD });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(text(limited.doc.querySelector('.error'))).toMatch(/Too many failed attempts/);
    expect(limited.headers.get('x-frame-options')).toBe('DENY');
    expect(b.cookies.has('oauth_session')).toBe(false);
    // Another address is not held back for this username: strangers cannot lock the owner out.
    const owner = new TestBrowser(h.url, { 'X-Forwarded-For': '203.0.113.9' });
    const ownerConsent = await owner.submit(await h.authorize(owner, clientId), { username: user.username, password: PASSWORD });
    expect(text(ownerConsent.doc.querySelector('title'))).toBe('Allow access?');
  });

  it('limits failed logins per address whatever usernames it tries', async () => {
    const clientId = await h.client();
    const b = new TestBrowser(h.url, { 'X-Forwarded-For': '192.0.2.44' });
    const page = await h.authorize(b, clientId);
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await b.submit(page, { username: `nobody-${i}`, password: 'whatever-123' })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429]);
  });
});

describe('built-in login: sign-up (prompt=create) and cookies under an https issuer', () => {
  let open: LoginHarness;
  let closed: LoginHarness;
  beforeAll(async () => {
    open = await startLoginHarness({ LOGIN_SELF_REGISTRATION: 'true', ISSUER: 'https://auth.example.com' });
    closed = await startLoginHarness();
  });
  afterAll(async () => {
    await open.close();
    await closed.close();
  });

  it('prompt=create shows the sign-up form when self-registration is on; the new account signs in and reaches consent', async () => {
    const clientId = await open.client();
    const b = new TestBrowser(open.url);
    const form = await open.authorize(b, clientId, { prompt: 'create' });
    expect(title(form)).toBe('Create an account');
    const username = `new-${Date.now().toString(36)}`;
    const mismatch = await b.submit(form, { username, password: 'a new password', confirm: 'another password' });
    expect(text(mismatch.doc.querySelector('.error'))).toBe('The two passwords differ.');
    const consent = await b.submit(mismatch, { username, password: 'a new password', confirm: 'a new password' });
    expect(title(consent)).toBe('Allow access?');
    const { rows } = await open.pool.query('SELECT password_hash FROM users WHERE username = $1', [username]);
    expect(rows[0].password_hash).toMatch(/^scrypt\$/);
    await b.submit(consent, {}, { name: 'decision', value: 'allow' });
    codeOf(b);
  });

  it('under an https issuer the cookies are Secure and __Host- prefixed (no sibling subdomain can set them)', async () => {
    const clientId = await open.client();
    const user = await open.user();
    const b = new TestBrowser(open.url);
    const login = await open.authorize(b, clientId);
    const csrfCookie = b.answers.at(-1)!.headers.getSetCookie()[0];
    expect(csrfCookie).toMatch(/^__Host-oauth_csrf=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Secure$/);
    await b.submit(login, { username: user.username, password: PASSWORD });
    const session = b.answers.at(-1)!.headers.getSetCookie().find((c) => c.startsWith('__Host-oauth_session='))!;
    expect(session).toMatch(/; HttpOnly; SameSite=Lax; Max-Age=\d+; Secure$/);
  });

  it('publishes prompt_values_supported with create only when self-registration is on', async () => {
    const on = (await (await fetch(`${open.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(on.prompt_values_supported).toEqual(['none', 'login', 'consent', 'create']);
    const off = (await (await fetch(`${closed.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(off.prompt_values_supported).toBeUndefined();
    expect(off.authorization_endpoint).toBe('http://localhost:3000/oauth2/authorize');
  });

  it('prompt=create shows the login form when self-registration is off, and a sign-up POST is refused', async () => {
    const clientId = await closed.client();
    const b = new TestBrowser(closed.url);
    const page = await closed.authorize(b, clientId, { prompt: 'create' });
    expect(title(page)).toBe('Sign in');
    expect(page.doc.querySelector('a[href*="screen=signup"]')).toBeNull();
    const refused = await b.submit(page, { step: 'signup', username: 'mallory', password: 'mallory password', confirm: 'mallory password' });
    expect(refused.status).toBe(404);
    const { rows } = await closed.pool.query(`SELECT 1 FROM users WHERE username = 'mallory'`);
    expect(rows).toHaveLength(0);
  });
});
