import { ClientsService } from '../src/clients/clients.service';
import type { RevocationEvent } from '../src/core/revocation-event';
import { RevocationEvents } from '../src/core/revocation-events';
import { TestBrowser, text, Page } from './support/browser';
import { LoginHarness, startLoginHarness } from './support/login-harness';
import { uniqueId } from './support/test-app';
import { DeviceFlow } from './support/device-harness';
import { disableAndRevoke } from '../src/account/account.service';
import { UsersService } from '../src/login/users.service';
import { RevocationService } from '../src/revocation/revocation.service';

interface SignedIn {
  grantId: string;
  accessToken: string;
  refreshToken: string;
  clientId: string;
}

/**
 * The account page (issue 15) over HTTP as a browser uses it (cookie jar, links, forms), with every effect
 * checked in the database: sessions listed and ended, audit rows, events, introspection, refresh.
 */
describe('account page: sessions, sign-out, deactivation, logout', () => {
  let h: LoginHarness;
  let resourceServer: { client_id: string; client_secret: string };
  const events: RevocationEvent[] = [];

  beforeAll(async () => {
    h = await startLoginHarness({ LOGIN_FAILURES_PER_USERNAME_ADDRESS: '1000', LOGIN_FAILURES_PER_ADDRESS: '1000' });
    h.app.get(RevocationEvents).subscribe((e) => void events.push(e));
    const rs = await h.app.get(ClientsService).create({ clientId: uniqueId('rs'), authMethod: 'client_secret_basic', grantTypes: ['client_credentials'] });
    resourceServer = { client_id: rs.client_id, client_secret: rs.client_secret! };
  });
  afterAll(() => h.close());

  const account = (query = '') => `${h.url}/account${query}`;
  const deviceFlow = () => new DeviceFlow(h);

  /** Signs in on the account page itself (the login's return_to), answering the account page. */
  async function signInToAccount(b: TestBrowser, user: { username: string; password: string }, query = ''): Promise<Page> {
    const login = await b.get(account(query));
    expect(text(login.doc.querySelector('h1'))).toBe('Sign in');
    const page = await b.submit(login, { username: user.username, password: user.password });
    expect(page.status).toBe(200);
    return page;
  }

  /** An app signs the person in through the login and consent pages of `b`, and exchanges the code. */
  async function signInApp(b: TestBrowser, user: { username: string; password: string }, scope: string, clientMetadata: Record<string, unknown> = {}): Promise<SignedIn> {
    const clientId = await h.client({ client_name: 'Element', client_uri: 'https://element.example', ...clientMetadata });
    let page = await h.authorize(b, clientId, { scope });
    const verifier = h.lastVerifier!;
    if (text(page.doc.querySelector('h1')) === 'Sign in') page = await b.submit(page, { username: user.username, password: user.password });
    await b.submit(page, {}, { name: 'decision', value: 'allow' });
    const code = new URL(b.clientRedirect!).searchParams.get('code')!;
    const res = await fetch(`${h.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: h.redirectUri, client_id: clientId, code_verifier: verifier }),
    });
    expect(res.status).toBe(200);
    const tokens = (await res.json()) as { access_token: string; refresh_token: string; grant_id?: string };
    const { rows } = await h.pool.query(`SELECT g.id FROM grants g WHERE g.client_id = $1`, [clientId]);
    return { grantId: rows[0].id, accessToken: tokens.access_token, refreshToken: tokens.refresh_token, clientId };
  }

  async function introspect(token: string): Promise<boolean> {
    const res = await fetch(`${h.url}/oauth2/introspect`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${Buffer.from(`${resourceServer.client_id}:${resourceServer.client_secret}`).toString('base64')}` },
      body: new URLSearchParams({ token }),
    });
    return ((await res.json()) as { active: boolean }).active;
  }

  async function refresh(s: SignedIn): Promise<number> {
    const res = await fetch(`${h.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: s.refreshToken, client_id: s.clientId }),
    });
    const body = (await res.json()) as { access_token?: string; refresh_token?: string };
    if (res.status === 200) Object.assign(s, { accessToken: body.access_token!, refreshToken: body.refresh_token! });
    return res.status;
  }

  const cards = (p: Page) => p.doc.querySelectorAll('section.card[id^=session-]');
  const listedGrants = (p: Page) => cards(p).map((c) => c.getAttribute('id')!.slice('session-'.length));
  const notice = (p: Page) => text(p.doc.querySelector('.notice'));

  async function waitForEvent(grantId: string): Promise<RevocationEvent> {
    for (let i = 0; i < 200; i++) {
      const e = events.find((x) => x.grantId === grantId);
      if (e) return e;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no revocation event for grant ${grantId}`);
  }

  async function expectEndedByUser(s: SignedIn, reason = 'user_request'): Promise<void> {
    const { rows: grant } = await h.pool.query('SELECT revoked_at IS NOT NULL AS revoked, revocation_reason FROM grants WHERE id = $1', [s.grantId]);
    expect(grant).toEqual([{ revoked: true, revocation_reason: reason }]);
    const { rows: audit } = await h.pool.query('SELECT reason, revoking_client_id, token_type FROM revocation_audit WHERE grant_id = $1', [s.grantId]);
    expect(audit).toEqual([{ reason, revoking_client_id: null, token_type: null }]);
    expect(await waitForEvent(s.grantId)).toMatchObject({ grantId: s.grantId, reason, suspicious: false, tokenType: null, revokingClientId: null });
    expect(await introspect(s.accessToken)).toBe(false);
    expect(await introspect(s.refreshToken)).toBe(false);
    expect(await refresh(s)).toBe(400);
  }

  it('sends a browser without a session to sign in, and back to the page it asked for', async () => {
    const user = await h.user();
    const b = new TestBrowser(h.url);
    const res = await fetch(account('?action=org.matrix.session_end&device_id=ABC'), { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/login?return_to=${encodeURIComponent('/account?action=org.matrix.session_end&device_id=ABC')}`);
    // Signing in from that page lands on that very page, query and all (an unknown device: the list with a notice).
    const page = await signInToAccount(b, user, '?action=org.matrix.session_end&device_id=ABC');
    expect(text(page.doc.querySelector('h1'))).toBe('Your account');
    expect(page.url).toBe(account('?action=org.matrix.session_end&device_id=ABC'));
    expect(notice(page)).toMatch(/not found/);
    // The login pages' security headers.
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'.*frame-ancestors 'none'/);
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.html).not.toMatch(/<script/i);
  });

  it('lists live sessions only, with client, device id, scopes, times and this browser marked', async () => {
    const user = await h.user();
    const b = new TestBrowser(h.url);
    const here = await signInApp(b, user, 'urn:matrix:client:api:* urn:matrix:client:device:HEREDEV');
    const phone = new TestBrowser(h.url);
    const there = await signInApp(phone, user, 'urn:matrix:client:api:* urn:matrix:client:device:PHONEDEV', { client_name: 'Phone app' });
    const revoked = await signInApp(phone, user, 'urn:matrix:client:device:REVOKEDDEV');
    await h.pool.query(`SELECT oauth_revoke_grant($1, NULL, NULL, 'admin')`, [revoked.grantId]);
    const expired = await signInApp(phone, user, 'urn:matrix:client:device:EXPIREDDEV');
    // Every token of this grant expired: nothing can act through it, so it is no session any more.
    await h.pool.query(`UPDATE access_tokens SET expires_at = now() - interval '1 second' WHERE grant_id = $1`, [expired.grantId]);
    await h.pool.query(`UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE grant_id = $1`, [expired.grantId]);
    // Only an access token left live (its refresh token exchanged): still a session.
    const accessOnly = await signInApp(phone, user, 'urn:matrix:client:device:ACCESSONLY');
    await h.pool.query(`UPDATE refresh_tokens SET revoked_at = now() WHERE grant_id = $1`, [accessOnly.grantId]);

    const page = await b.get(account());
    expect(listedGrants(page).sort()).toEqual([here.grantId, there.grantId, accessOnly.grantId].sort());
    const hereCard = page.doc.querySelector(`#session-${here.grantId}`)!;
    expect(text(hereCard)).toContain('Element');
    expect(text(hereCard)).toContain('HEREDEV');
    expect(text(hereCard)).toContain('This browser');
    expect(text(hereCard)).toContain('Full access to your Matrix account');
    expect(text(hereCard)).toMatch(/Signed in \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(hereCard.querySelector('a[href="https://element.example/"]')).not.toBeNull();
    expect(hereCard.querySelector('a[href="/account?action=org.matrix.session_end&device_id=HEREDEV"]')).not.toBeNull();
    const thereCard = page.doc.querySelector(`#session-${there.grantId}`)!;
    expect(text(thereCard)).toContain('Phone app');
    expect(text(thereCard)).toContain('PHONEDEV');
    expect(text(thereCard)).not.toContain('This browser');
    // The browser sessions too: this one marked, the phone's listed.
    const browsers = page.doc.querySelectorAll('section.card:not([id])').map(text);
    expect(browsers).toHaveLength(2);
    expect(browsers.filter((t) => t.includes('This browser'))).toHaveLength(1);
  });

  it('opens one session by device id (session_view) and its confirmation (session_end)', async () => {
    const user = await h.user();
    const b = new TestBrowser(h.url);
    const s = await signInApp(b, user, 'urn:matrix:client:api:* urn:matrix:client:device:VIEWDEV');
    const view = await b.get(account('?action=org.matrix.session_view&device_id=VIEWDEV'));
    expect(text(view.doc.querySelector('h1'))).toBe('Session');
    expect(listedGrants(view)).toEqual([s.grantId]);
    const confirm = await b.get(account('?action=org.matrix.session_end&device_id=VIEWDEV'));
    expect(text(confirm.doc.querySelector('h1'))).toBe('Sign out this session?');
    expect(confirm.doc.querySelector('input[name=session]')!.getAttribute('value')).toBe(s.grantId);
    // MSC4191's final names lead to the same pages.
    expect(text((await b.get(account('?action=org.matrix.device_delete&device_id=VIEWDEV'))).doc.querySelector('h1'))).toBe('Sign out this session?');
  });

  it('ends a session: grant revoked with user_request, audit row, event not suspicious, both tokens inactive, refresh refused', async () => {
    const user = await h.user();
    const b = new TestBrowser(h.url);
    const s = await signInApp(b, user, 'urn:matrix:client:api:* urn:matrix:client:device:ENDDEV');
    const other = await signInApp(b, user, 'urn:matrix:client:api:* urn:matrix:client:device:KEEPDEV');
    expect(await introspect(s.accessToken)).toBe(true);
    const confirm = await b.get(account('?action=org.matrix.session_end&device_id=ENDDEV'));
    const after = await b.submit(confirm);
    expect(after.url).toBe(account('?notice=ended'));
    expect(notice(after)).toBe('The session was signed out.');
    expect(listedGrants(after)).toEqual([other.grantId]);
    await expectEndedByUser(s);
    expect(await introspect(other.accessToken)).toBe(true);
  });

  it('"sign out everywhere else" ends every other session in one go and keeps this browser\'s', async () => {
    const user = await h.user();
    const b = new TestBrowser(h.url);
    const mine = await signInApp(b, user, 'urn:matrix:client:device:MINE');
    const phone = new TestBrowser(h.url);
    const others = [await signInApp(phone, user, 'urn:matrix:client:device:OTHER1'), await signInApp(phone, user, 'urn:matrix:client:device:OTHER2')];
    const page = await b.get(account());
    const form = page.doc.querySelectorAll('form').find((f) => f.querySelector('input[name=step][value=end_others]'))!;
    expect(form).toBeDefined();
    const csrf = form.querySelector('input[name=csrf]')!.getAttribute('value')!;
    const after = await b.post(account(), { csrf, step: 'end_others' });
    expect(notice(after)).toBe('Every other session was signed out.');
    expect(listedGrants(after)).toEqual([mine.grantId]);
    for (const s of others) await expectEndedByUser(s);
    // One statement: the same revocation time for all of them.
    const { rows } = await h.pool.query('SELECT DISTINCT revoked_at FROM grants WHERE id = ANY($1)', [others.map((s) => s.grantId)]);
    expect(rows).toHaveLength(1);
    // The phone's browser session ended too; this one stays.
    expect((await phone.get(account())).url).toMatch(/\/login\?return_to=/);
    expect((await b.get(account())).url).toBe(account());
  });

  it('asks for the password again when the login is old, and refuses a wrong one', async () => {
    const user = await h.user();
    const b = new TestBrowser(h.url);
    const s = await signInApp(b, user, 'urn:matrix:client:device:OLDDEV');
    await signInApp(b, user, 'urn:matrix:client:device:NEXTDEV');
    await h.pool.query(`UPDATE browser_sessions SET authenticated_at = now() - interval '1 hour' WHERE user_id = $1`, [user.id]);
    const confirm = await b.get(account('?action=org.matrix.session_end&device_id=OLDDEV'));
    expect(confirm.doc.querySelector('input[name=password]')).not.toBeNull();
    const without = await b.submit(confirm, { password: '' });
    expect(text(without.doc.querySelector('.error'))).toBe('Enter your password to confirm.');
    const wrong = await b.submit(confirm, { password: 'not the password' });
    expect(text(wrong.doc.querySelector('.error'))).toBe('The username or password is incorrect.');
    expect((await h.pool.query('SELECT revoked_at FROM grants WHERE id = $1', [s.grantId])).rows).toEqual([{ revoked_at: null }]);
    const done = await b.submit(confirm, { password: user.password });
    expect(notice(done)).toBe('The session was signed out.');
    await expectEndedByUser(s);
    // The password renewed the login: the next form does not ask again.
    const { rows } = await h.pool.query(`SELECT authenticated_at > now() - interval '1 minute' AS fresh FROM browser_sessions WHERE user_id = $1 AND ended_at IS NULL`, [user.id]);
    expect(rows).toEqual([{ fresh: true }]);
    const next = await b.get(account('?action=org.matrix.session_end&device_id=NEXTDEV'));
    expect(text(next.doc.querySelector('h1'))).toBe('Sign out this session?');
    expect(next.doc.querySelector('input[name=step][value=end]')).not.toBeNull();
    expect(next.doc.querySelector('input[name=password]')).toBeNull();
  });

  it('never shows or ends another person\'s session, by grant id or by device id', async () => {
    const alice = await h.user();
    const mallory = await h.user();
    const a = new TestBrowser(h.url);
    const victim = await signInApp(a, alice, 'urn:matrix:client:device:ALICEDEV');
    const m = new TestBrowser(h.url);
    await signInApp(m, mallory, 'urn:matrix:client:device:MALLORYDEV');
    const byDevice = await m.get(account('?action=org.matrix.session_view&device_id=ALICEDEV'));
    expect(notice(byDevice)).toMatch(/not found/);
    expect(byDevice.html).not.toContain(victim.grantId);
    const byId = await m.get(account(`?action=org.matrix.session_end&session=${victim.grantId}`));
    expect(notice(byId)).toMatch(/not found/);
    // A forged POST with Mallory's own valid CSRF token (from her own session's form) and Alice's grant id.
    const own = await m.get(account('?action=org.matrix.session_end&device_id=MALLORYDEV'));
    const csrf = own.doc.querySelector('input[name=csrf]')!.getAttribute('value')!;
    const forged = await m.post(account(), { csrf, step: 'end', session: victim.grantId });
    expect(notice(forged)).toMatch(/not found/);
    expect((await h.pool.query('SELECT revoked_at FROM grants WHERE id = $1', [victim.grantId])).rows).toEqual([{ revoked_at: null }]);
    expect(await introspect(victim.accessToken)).toBe(true);
  });

  it('refuses every POST without the CSRF token of this browser session', async () => {
    const user = await h.user();
    const b = new TestBrowser(h.url);
    const s = await signInApp(b, user, 'urn:matrix:client:device:CSRFDEV');
    // A session elsewhere, so that a forged "sign out everywhere else" would have something to end.
    const elsewhere = await signInApp(new TestBrowser(h.url), user, 'urn:matrix:client:device:CSRFOTHER');
    const confirm = await b.get(account('?action=org.matrix.session_end&device_id=CSRFDEV'));
    const csrf = confirm.doc.querySelector('input[name=csrf]')!.getAttribute('value')!;
    for (const fields of <Array<Record<string, string>>>[
      { step: 'end', session: s.grantId },
      { step: 'end_others' },
      { step: 'deactivate', password: user.password },
      { step: 'end', session: s.grantId, csrf: `${csrf.slice(0, -1)}${csrf.endsWith('A') ? 'E' : 'A'}` },
    ]) {
      const page = await b.post(account(), fields);
      expect(page.status).toBe(403);
    }
    // A token of another browser session of the same person is no good here either.
    const other = new TestBrowser(h.url);
    other.cookies.set('oauth_csrf', b.cookies.get('oauth_csrf')!);
    await signInToAccount(other, user);
    expect((await other.post(account(), { csrf, step: 'end', session: s.grantId })).status).toBe(403);
    expect((await h.pool.query('SELECT revoked_at FROM grants WHERE id = $1', [s.grantId])).rows).toEqual([{ revoked_at: null }]);
    expect((await h.pool.query('SELECT revoked_at FROM grants WHERE id = $1', [elsewhere.grantId])).rows).toEqual([{ revoked_at: null }]);
    expect(await introspect(elsewhere.accessToken)).toBe(true);
    expect((await h.pool.query('SELECT disabled_at FROM users WHERE id = $1', [user.id])).rows).toEqual([{ disabled_at: null }]);
  });

  it.each([
    ['an unknown action', '?action=org.matrix.cross_signing_reset', /does not exist here/],
    ['an unknown device', '?action=org.matrix.session_view&device_id=NOSUCH', /not found/],
    ['a session id that is no UUID', "?action=org.matrix.session_end&session=1' OR 1=1", /not found/],
    ['a view without a device', '?action=org.matrix.session_view', /not found/],
  ])('shows the list with a notice for %s, never an error page', async (_name, query, expected) => {
    const user = await h.user();
    const b = new TestBrowser(h.url);
    await signInToAccount(b, user);
    const page = await b.get(account(query));
    expect(page.status).toBe(200);
    expect(text(page.doc.querySelector('h1'))).toBe('Your account');
    expect(notice(page)).toMatch(expected);
  });

  it('deactivates the account: password asked, every grant revoked, user disabled, browser sessions ended, no more login', async () => {
    const user = await h.user();
    const b = new TestBrowser(h.url);
    const s1 = await signInApp(b, user, 'urn:matrix:client:device:DEACT1');
    const phone = new TestBrowser(h.url);
    const s2 = await signInApp(phone, user, 'urn:matrix:client:device:DEACT2');
    const confirm = await b.get(account('?action=org.matrix.account_deactivate'));
    expect(text(confirm.doc.querySelector('h1'))).toBe('Deactivate your account?');
    const wrong = await b.submit(confirm, { password: 'wrong password' });
    expect(text(wrong.doc.querySelector('.error'))).toBe('The username or password is incorrect.');
    expect((await h.pool.query('SELECT disabled_at FROM users WHERE id = $1', [user.id])).rows).toEqual([{ disabled_at: null }]);
    const done = await b.submit(confirm, { password: user.password });
    expect(text(done.doc.querySelector('h1'))).toBe('Account deactivated');
    expect(b.cookies.has('oauth_session')).toBe(false);
    for (const s of [s1, s2]) await expectEndedByUser(s, 'user_deactivated');
    expect((await h.pool.query('SELECT disabled_at IS NOT NULL AS disabled FROM users WHERE id = $1', [user.id])).rows).toEqual([{ disabled: true }]);
    expect((await h.pool.query('SELECT count(*)::int AS n FROM browser_sessions WHERE user_id = $1 AND ended_at IS NULL', [user.id])).rows).toEqual([{ n: 0 }]);
    const again = new TestBrowser(h.url);
    const login = await again.get(account());
    const refused = await again.submit(login, { username: user.username, password: user.password });
    expect(text(refused.doc.querySelector('.error'))).toBe('The username or password is incorrect.');
  });

  /** A device code the person approved on the verification page of `b` (signing in there), not polled yet. */
  async function approvedDeviceCode(flow: DeviceFlow, b: TestBrowser, username: string) {
    const tv = await flow.client();
    const start = await flow.started(tv, 'urn:matrix:client:api:* urn:matrix:client:device:TVDEACT');
    await flow.answer(b, start.user_code, username);
    expect(await flow.row(start.user_code)).toMatchObject({ status: 'approved', grant_id: null });
    return { tv, start };
  }

  /** The device polls after its person was disabled: refused, no grant, the code denied for good. */
  async function expectDeviceRefused(flow: DeviceFlow, userId: string, d: Awaited<ReturnType<typeof approvedDeviceCode>>): Promise<void> {
    const poll = await flow.poll(d.tv, d.start.device_code);
    expect([poll.status, poll.body.error, poll.body.access_token]).toEqual([400, 'access_denied', undefined]);
    expect(await flow.row(d.start.user_code)).toMatchObject({ status: 'denied', grant_id: null });
    const { rows } = await h.pool.query('SELECT count(*)::int AS n FROM grants WHERE subject = $1 AND client_id = $2', [userId, d.tv.client_id]);
    expect(rows).toEqual([{ n: 0 }]);
    const again = await flow.poll(d.tv, d.start.device_code);
    expect(again.body.access_token).toBeUndefined();
  }

  it('deactivation leaves no approved device code redeemable: the next poll is access_denied and starts no grant', async () => {
    const flow = deviceFlow();
    const user = await h.user();
    const b = new TestBrowser(h.url);
    const device = await approvedDeviceCode(flow, b, user.username);
    const confirm = await b.get(account('?action=org.matrix.account_deactivate'));
    const done = await b.submit(confirm, { password: user.password });
    expect(text(done.doc.querySelector('h1'))).toBe('Account deactivated');
    await expectDeviceRefused(flow, user.id, device);
  });

  it('user:disable (the operator) leaves no approved device code redeemable either', async () => {
    const flow = deviceFlow();
    const user = await h.user();
    const device = await approvedDeviceCode(flow, new TestBrowser(h.url), user.username);
    // What the admin CLI's user:disable runs.
    const disabled = await disableAndRevoke(h.app.get(RevocationService), (revoke) => h.app.get(UsersService).disable(user.username, revoke), 'user_disabled');
    expect(disabled).toMatchObject({ id: user.id, endedBrowserSessions: 1 });
    await expectDeviceRefused(flow, user.id, device);
  });

  it('deactivates in one transaction: when revoking the grants fails, the user stays enabled with the sessions as they were, and may retry', async () => {
    const user = await h.user();
    const b = new TestBrowser(h.url);
    const s1 = await signInApp(b, user, 'urn:matrix:client:device:TXFAIL');
    const fn = `test_fail_revoke_${user.id.replace(/-/g, '')}`;
    // The revocation step fails for this user's grants only (other suites share the database).
    await h.pool.query(`CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $f$
      BEGIN IF NEW.subject = '${user.id}' AND NEW.revoked_at IS NOT NULL THEN RAISE EXCEPTION 'simulated failure'; END IF; RETURN NEW; END $f$`);
    await h.pool.query(`CREATE TRIGGER ${fn} BEFORE UPDATE ON grants FOR EACH ROW EXECUTE FUNCTION ${fn}()`);
    try {
      const confirm = await b.get(account('?action=org.matrix.account_deactivate'));
      const failed = await b.submit(confirm, { password: user.password });
      expect(failed.status).toBeGreaterThanOrEqual(500);
      expect(text(failed.doc.querySelector('h1'))).not.toBe('Account deactivated');
    } finally {
      await h.pool.query(`DROP TRIGGER ${fn} ON grants`);
      await h.pool.query(`DROP FUNCTION ${fn}()`);
    }
    expect((await h.pool.query('SELECT disabled_at FROM users WHERE id = $1', [user.id])).rows).toEqual([{ disabled_at: null }]);
    expect((await h.pool.query('SELECT count(*)::int AS n FROM browser_sessions WHERE user_id = $1 AND ended_at IS NULL', [user.id])).rows).toEqual([{ n: 1 }]);
    expect((await h.pool.query('SELECT revoked_at FROM grants WHERE id = $1', [s1.grantId])).rows).toEqual([{ revoked_at: null }]);
    expect((await h.pool.query('SELECT count(*)::int AS n FROM revocation_audit WHERE grant_id = $1', [s1.grantId])).rows).toEqual([{ n: 0 }]);
    expect(events.some((e) => e.grantId === s1.grantId)).toBe(false);
    expect(await introspect(s1.accessToken)).toBe(true);
    // Still signed in: the retry deactivates everything together.
    const confirm = await b.get(account('?action=org.matrix.account_deactivate'));
    const done = await b.submit(confirm, { password: user.password });
    expect(text(done.doc.querySelector('h1'))).toBe('Account deactivated');
    await expectEndedByUser(s1, 'user_deactivated');
    // Exactly one event for the grant: the rolled-back attempt announced nothing, however late.
    await new Promise((r) => setTimeout(r, 300));
    expect(events.filter((e) => e.grantId === s1.grantId)).toEqual([expect.objectContaining({ reason: 'user_deactivated' })]);
    expect((await h.pool.query('SELECT disabled_at IS NOT NULL AS disabled FROM users WHERE id = $1', [user.id])).rows).toEqual([{ disabled: true }]);
    expect((await h.pool.query('SELECT count(*)::int AS n FROM browser_sessions WHERE user_id = $1 AND ended_at IS NULL', [user.id])).rows).toEqual([{ n: 0 }]);
  });

  it('logout ends this browser session from the account page; the apps it signed in stay signed in', async () => {
    const user = await h.user();
    const b = new TestBrowser(h.url);
    const s = await signInApp(b, user, 'urn:matrix:client:device:STAYDEV');
    const page = await b.get(account());
    const form = page.doc.querySelectorAll('form').find((f) => (f.getAttribute('action') ?? '').endsWith('/login/logout'))!;
    const after = await b.post(new URL(form.getAttribute('action')!, page.url).toString(), Object.fromEntries(form.querySelectorAll('input').map((i) => [i.getAttribute('name')!, i.getAttribute('value')!])));
    // Back to the sign-in of the account page.
    expect(text(after.doc.querySelector('h1'))).toBe('Sign in');
    expect(after.url).toMatch(/\/login\?return_to=%2Faccount$/);
    expect((await h.pool.query('SELECT count(*)::int AS n FROM browser_sessions WHERE user_id = $1 AND ended_at IS NULL', [user.id])).rows).toEqual([{ n: 0 }]);
    expect((await h.pool.query('SELECT revoked_at FROM grants WHERE id = $1', [s.grantId])).rows).toEqual([{ revoked_at: null }]);
    expect(await introspect(s.accessToken)).toBe(true);
    expect(await refresh(s)).toBe(200);
  });

  it('records last use on refresh and on an access token\'s first check, at most once a minute', async () => {
    const user = await h.user();
    const b = new TestBrowser(h.url);
    const s = await signInApp(b, user, 'urn:matrix:client:device:USEDEV');
    const lastUsed = async () => (await h.pool.query('SELECT last_used_at FROM grants WHERE id = $1', [s.grantId])).rows[0].last_used_at as Date | null;
    const until = async (check: (d: Date | null) => boolean) => {
      for (let i = 0; i < 200; i++) {
        const d = await lastUsed();
        if (check(d)) return d;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error('last_used_at never changed');
    };
    expect(await lastUsed()).toBeNull();
    expect(text((await b.get(account())).doc.querySelector(`#session-${s.grantId}`))).toContain('Last used Not yet');
    // First check of the access token (a cache miss): recorded.
    expect(await introspect(s.accessToken)).toBe(true);
    const first = await until((d) => d !== null);
    // Within the minute, a refresh does not write again…
    expect(await refresh(s)).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    expect(await lastUsed()).toEqual(first);
    // …and once the last write is over a minute old, a refresh does.
    await h.pool.query(`UPDATE grants SET last_used_at = now() - interval '2 minutes' WHERE id = $1`, [s.grantId]);
    const before = await lastUsed();
    expect(await refresh(s)).toBe(200);
    await until((d) => d!.getTime() > before!.getTime());
    // The new access token's first check, within the minute after that: no write (a negative, so a bounded wait).
    const recorded = await lastUsed();
    expect(await introspect(s.accessToken)).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect(await lastUsed()).toEqual(recorded);
  });
});

describe('account page under an issuer with a path', () => {
  let h: LoginHarness;
  beforeAll(async () => {
    h = await startLoginHarness({ ISSUER: 'http://localhost:3000/tenant1' });
  });
  afterAll(() => h.close());

  it('sends the browser to the sign-in under the issuer path, and back to the account page there', async () => {
    const user = await h.user();
    const res = await fetch(`${h.url}/tenant1/account`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/tenant1/login?return_to=${encodeURIComponent('/tenant1/account')}`);
    // A return_to outside the issuer path is refused.
    expect((await fetch(`${h.url}/tenant1/login?return_to=${encodeURIComponent('/account')}`, { redirect: 'manual' })).status).toBe(400);
    const b = new TestBrowser(h.url);
    const login = await b.get(`${h.url}/tenant1/account`);
    const page = await b.submit(login, { username: user.username, password: user.password });
    expect(page.url).toBe(`${h.url}/tenant1/account`);
    expect(text(page.doc.querySelector('h1'))).toBe('Your account');
    expect(page.doc.querySelector('form[action="/tenant1/login/logout"]')).not.toBeNull();
  });
});
