import { RevocationEvents } from '../src/core/revocation-events';
import type { RevocationEvent } from '../src/core/revocation-event';
import { AuthFailureLimiter } from '../src/clients/auth-failure-limiter';
import { DEVICE_CODE_GRANT_TYPE, USER_CODE_LIMITER } from '../src/device/device.constants';
import { hashToken } from '../src/grants/token-format';
import { text, TestBrowser } from './support/browser';
import { DeviceFlow, ISSUER } from './support/device-harness';
import { LoginHarness, startLoginHarness } from './support/login-harness';
import { waitFor } from './support/processes';

let addresses = 0;
/** A browser from an address of its own, so that one test's wrong codes do not count against another's. */
function browser(h: LoginHarness): TestBrowser {
  addresses++;
  return new TestBrowser(h.url, { 'X-Forwarded-For': `198.51.${addresses >> 8}.${addresses & 255}` });
}

describe('device authorization grant (RFC 8628)', () => {
  let h: LoginHarness;
  let flow: DeviceFlow;
  let resourceServer: { client_id: string; client_secret?: string } & Record<string, unknown>;

  beforeAll(async () => {
    h = await startLoginHarness({ LOGIN_FAILURES_PER_USERNAME_ADDRESS: '1000', LOGIN_FAILURES_PER_ADDRESS: '1000' });
    flow = new DeviceFlow(h);
    resourceServer = (await flow.fx.client('client_secret_basic')) as never;
  });
  afterAll(() => h.close());

  describe('POST /oauth2/device', () => {
    it('answers a device code (stored hashed), a user code of 8 consonants shown XXXX-XXXX, the verification URIs, expires_in and interval', async () => {
      const tv = await flow.client();
      const res = await flow.start(tv, { scope: 'urn:matrix:client:api:* urn:matrix:client:api:*' });
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({
        device_code: expect.any(String),
        user_code: expect.stringMatching(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/),
        verification_uri: `${ISSUER}/device`,
        verification_uri_complete: `${ISSUER}/device?user_code=${res.body.user_code}`,
        expires_in: 600,
        interval: 5,
      });
      const row = await flow.row(res.body.user_code);
      expect(row).toMatchObject({ client_id: tv.client_id, scope: 'urn:matrix:client:api:*', status: 'pending', interval_seconds: 5, subject: null, grant_id: null });
      expect(row.device_code_hash).toEqual(hashToken(res.body.device_code));
      // Nowhere in the row, as text or as bytes of any column (the hash column is bytea: its text form is hex).
      const { rows } = await h.pool.query(
        `SELECT count(*)::int AS n FROM device_codes d WHERE d::text LIKE '%' || $1 || '%' OR position(convert_to($1, 'UTF8') IN d.device_code_hash) > 0`,
        [res.body.device_code],
      );
      expect(rows[0].n).toBe(0);
      const lifetime = (row.expires_at.getTime() - row.created_at.getTime()) / 1000;
      expect(lifetime).toBeCloseTo(600, 0);
    });

    it('authenticates a confidential client as the token endpoint does (invalid_client 401 without or with a wrong secret)', async () => {
      const web = await flow.client('client_secret_basic');
      expect((await flow.start(web)).status).toBe(200);
      const noSecret = await flow.calls.post('/oauth2/device', { client_id: web.client_id });
      expect([noSecret.status, noSecret.body.error]).toEqual([401, 'invalid_client']);
      const wrong = await flow.start({ ...web, client_secret: 'not-the-secret' });
      expect([wrong.status, wrong.body.error]).toEqual([401, 'invalid_client']);
    });

    it('refuses a request without a client (401 invalid_client), an unknown client (401) and a client not registered for the grant (unauthorized_client)', async () => {
      const none = await flow.calls.post('/oauth2/device', { scope: 'openid' });
      expect([none.status, none.body.error]).toEqual([401, 'invalid_client']);
      const unknown = await flow.calls.post('/oauth2/device', { client_id: 'no-such-client' });
      expect([unknown.status, unknown.body.error]).toEqual([401, 'invalid_client']);
      const codeOnly = await flow.client('none', {}, ['refresh_token']);
      const refused = await flow.start(codeOnly);
      expect([refused.status, refused.body.error]).toEqual([400, 'unauthorized_client']);
      const { rows } = await h.pool.query('SELECT count(*)::int AS n FROM device_codes WHERE client_id = $1', [codeOnly.client_id]);
      expect(rows[0].n).toBe(0);
    });

    it('checks the scope like the other entry points: malformed is invalid_scope, nothing stored', async () => {
      const tv = await flow.client();
      for (const scope of ['a  b', 'a "b"', ' a']) {
        const res = await flow.start(tv, { scope });
        expect([res.status, res.body.error]).toEqual([400, 'invalid_scope']);
      }
      const { rows } = await h.pool.query('SELECT count(*)::int AS n FROM device_codes WHERE client_id = $1', [tv.client_id]);
      expect(rows[0].n).toBe(0);
    });

    it('answers RFC 6749 errors as JSON for other methods (405) and unreadable bodies', async () => {
      const tv = await flow.client();
      const res = await fetch(`${h.url}/oauth2/device`);
      expect(res.status).toBe(405);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
      const json = await fetch(`${h.url}/oauth2/device`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_id: tv.client_id }) });
      expect(json.status).toBe(400);
      expect(((await json.json()) as { error: string }).error).toBe('invalid_request');
    });
  });

  describe('the token endpoint polled with the device code', () => {
    it('answers authorization_pending, then slow_down with the interval grown by 5 s each time and kept on the code (RFC 8628 §3.5)', async () => {
      const tv = await flow.client();
      const start = await flow.started(tv);
      const first = await flow.poll(tv, start.device_code);
      expect([first.status, first.body.error]).toEqual([400, 'authorization_pending']);
      expect((await flow.row(start.user_code)).interval_seconds).toBe(5);
      const fast = await flow.poll(tv, start.device_code);
      expect([fast.status, fast.body.error]).toEqual([400, 'slow_down']);
      expect((await flow.row(start.user_code)).interval_seconds).toBe(10);
      expect((await flow.poll(tv, start.device_code)).body.error).toBe('slow_down');
      expect((await flow.row(start.user_code)).interval_seconds).toBe(15);
      // Polled after the interval: pending again, the grown interval kept.
      await h.pool.query(`UPDATE device_codes SET last_polled_at = now() - interval '16 seconds' WHERE user_code = $1`, [start.user_code.replace('-', '')]);
      expect((await flow.poll(tv, start.device_code)).body.error).toBe('authorization_pending');
      expect((await flow.row(start.user_code)).interval_seconds).toBe(15);
    });

    it('issues a new grant to the approving person with the granted scope, access and refresh token that work, once', async () => {
      const tv = await flow.client('none', { client_name: 'Living-room TV', client_uri: 'https://tv.example' });
      const user = await h.user();
      const start = await flow.started(tv, 'urn:matrix:client:api:* urn:matrix:client:device:TV1');
      expect((await flow.poll(tv, start.device_code)).body.error).toBe('authorization_pending');
      const b = browser(h);
      const { consent, result } = await flow.answer(b, start.user_code, user.username);
      // The consent page shows the client, its URI, the scopes in words and the device's code.
      expect(text(consent.doc.querySelector('main'))).toContain('Living-room TV');
      expect(consent.doc.querySelector('a[href="https://tv.example/"]')).not.toBeNull();
      expect(text(consent.doc.querySelector('.code'))).toBe(start.user_code);
      expect(text(consent.doc.querySelector('ul.scopes'))).toContain('device ID TV1');
      expect(text(result.doc.querySelector('h1'))).toBe('Device connected');
      expect(text(result.doc.querySelector('main p'))).toContain('return to your device');
      expect(await flow.row(start.user_code)).toMatchObject({ status: 'approved', subject: user.id, scope: 'urn:matrix:client:api:* urn:matrix:client:device:TV1' });

      const tokens = await flow.poll(tv, start.device_code);
      expect(tokens.status).toBe(200);
      expect(tokens.body).toEqual({ access_token: expect.stringMatching(/^oat_/), refresh_token: expect.stringMatching(/^ort_/), token_type: 'Bearer', expires_in: 3600, scope: 'urn:matrix:client:api:* urn:matrix:client:device:TV1' });
      const row = await flow.row(start.user_code);
      expect(row.status).toBe('issued');
      const grant = await h.pool.query('SELECT client_id, subject, scope, revoked_at FROM grants WHERE id = $1', [row.grant_id]);
      expect(grant.rows).toEqual([{ client_id: tv.client_id, subject: user.id, scope: 'urn:matrix:client:api:* urn:matrix:client:device:TV1', revoked_at: null }]);
      expect(await flow.fx.grantState(row.grant_id)).toMatchObject({ grantRevoked: false, liveAccess: 1, liveRefresh: 1 });
      const introspected = await flow.calls.introspect(tokens.body.access_token, resourceServer as never);
      expect(introspected.body).toMatchObject({ active: true, client_id: tv.client_id, sub: user.id });
      const refreshed = await flow.calls.refresh(tokens.body.refresh_token, tv);
      expect(refreshed.status).toBe(200);
    });

    it('revokes the grant of a device code redeemed a second time: invalid_grant, audit row device_code_reuse, a suspicious event', async () => {
      const heard: RevocationEvent[] = [];
      const unsubscribe = h.app.get(RevocationEvents).subscribe((e) => void heard.push(e));
      try {
        const tv = await flow.client();
        const user = await h.user();
        const start = await flow.started(tv);
        await flow.answer(browser(h), start.user_code, user.username);
        const tokens = await flow.poll(tv, start.device_code);
        expect(tokens.status).toBe(200);
        const { grant_id: grantId } = await flow.row(start.user_code);
        const again = await flow.poll(tv, start.device_code);
        expect([again.status, again.body.error]).toEqual([400, 'invalid_grant']);
        expect(await flow.fx.grantState(grantId)).toMatchObject({ grantRevoked: true, liveAccess: 0, liveRefresh: 0 });
        expect(await flow.fx.auditRows(grantId)).toEqual([{ reason: 'device_code_reuse', token_type: null, revoking_client_id: tv.client_id, client_id: tv.client_id }]);
        await waitFor(async () => heard.some((e) => e.grantId === grantId), 5_000, 'the reuse event');
        expect(heard.filter((e) => e.grantId === grantId)).toEqual([expect.objectContaining({ reason: 'device_code_reuse', suspicious: true, subject: user.id })]);
        expect((await flow.calls.introspect(tokens.body.access_token, resourceServer as never)).body).toEqual({ active: false });
        expect((await flow.calls.refresh(tokens.body.refresh_token, tv)).body.error).toBe('invalid_grant');
        // A third redemption finds the grant revoked already: no second audit row.
        expect((await flow.poll(tv, start.device_code)).body.error).toBe('invalid_grant');
        expect(await flow.fx.auditRows(grantId)).toHaveLength(1);
      } finally {
        unsubscribe();
      }
    });

    it('issues at most one grant when two redemptions of an approved code race', async () => {
      const tv = await flow.client();
      const user = await h.user();
      const start = await flow.started(tv);
      await flow.answer(browser(h), start.user_code, user.username);
      const answers = await Promise.all([flow.poll(tv, start.device_code), flow.poll(tv, start.device_code), flow.poll(tv, start.device_code)]);
      expect(answers.map((a) => a.status).sort()).toEqual([200, 400, 400]);
      const { rows } = await h.pool.query('SELECT count(*)::int AS n FROM grants WHERE client_id = $1', [tv.client_id]);
      expect(rows[0].n).toBe(1);
    });

    it('answers access_denied when the person denies, and records it on the code', async () => {
      const tv = await flow.client();
      const user = await h.user();
      const start = await flow.started(tv);
      const { result } = await flow.answer(browser(h), start.user_code, user.username, 'deny');
      expect(text(result.doc.querySelector('h1'))).toBe('Access denied');
      expect(await flow.row(start.user_code)).toMatchObject({ status: 'denied', grant_id: null });
      const res = await flow.poll(tv, start.device_code);
      expect([res.status, res.body.error]).toEqual([400, 'access_denied']);
      const { rows } = await h.pool.query('SELECT count(*)::int AS n FROM grants WHERE client_id = $1', [tv.client_id]);
      expect(rows[0].n).toBe(0);
    });

    it('answers expired_token for an expired code, approved or not, and the verification page says it expired', async () => {
      const tv = await flow.client();
      const user = await h.user();
      const approved = await flow.started(tv);
      await flow.answer(browser(h), approved.user_code, user.username);
      const waiting = await flow.started(tv);
      await h.pool.query(`UPDATE device_codes SET expires_at = now() - interval '1 second' WHERE client_id = $1`, [tv.client_id]);
      expect((await flow.poll(tv, approved.device_code)).body.error).toBe('expired_token');
      expect((await flow.poll(tv, waiting.device_code)).body.error).toBe('expired_token');
      const page = await flow.enter(browser(h), waiting.user_code);
      expect(page.status).toBe(400);
      expect(text(page.doc.querySelector('.error'))).toContain('expired');
      const { rows } = await h.pool.query('SELECT count(*)::int AS n FROM grants WHERE client_id = $1', [tv.client_id]);
      expect(rows[0].n).toBe(0);
    });

    it('answers invalid_grant to another client presenting the code, and leaves the code to its own client', async () => {
      const tv = await flow.client();
      const other = await flow.client();
      const user = await h.user();
      const start = await flow.started(tv);
      await flow.answer(browser(h), start.user_code, user.username);
      const stolen = await flow.poll(other, start.device_code);
      expect([stolen.status, stolen.body.error]).toEqual([400, 'invalid_grant']);
      expect(await flow.row(start.user_code)).toMatchObject({ status: 'approved', last_polled_at: null });
      expect((await flow.poll(tv, start.device_code)).status).toBe(200);
      const { rows } = await h.pool.query('SELECT count(*)::int AS n FROM grants WHERE client_id = $1', [other.client_id]);
      expect(rows[0].n).toBe(0);
    });

    it('answers invalid_grant to an unknown device code and invalid_request without one', async () => {
      const tv = await flow.client();
      expect((await flow.poll(tv, 'odc_not-a-code')).body.error).toBe('invalid_grant');
      const missing = await flow.calls.post('/oauth2/token', { grant_type: DEVICE_CODE_GRANT_TYPE }, tv);
      expect(missing.body.error).toBe('invalid_request');
    });
  });

  describe('the verification page', () => {
    it('serves the code form with the login pages\' security headers and a CSRF token, prefilled from verification_uri_complete', async () => {
      const tv = await flow.client();
      const start = await flow.started(tv);
      const b = browser(h);
      const page = await b.get(`${h.url}/device?user_code=${start.user_code}`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'.*frame-ancestors 'none'/);
      expect(page.headers.get('x-frame-options')).toBe('DENY');
      expect(page.headers.get('cache-control')).toBe('no-store');
      expect(page.doc.querySelector('meta[name="viewport"]')).not.toBeNull();
      expect(page.doc.querySelector('script')).toBeNull();
      expect(page.doc.querySelector('input[name="user_code"]')?.getAttribute('value')).toBe(start.user_code);
      expect(page.doc.querySelector('input[name="csrf"]')?.getAttribute('value')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      // Escaped: a user_code parameter cannot inject markup.
      const evil = await b.get(`${h.url}/device?user_code=${encodeURIComponent('"><b>x</b>')}`);
      expect(evil.doc.querySelector('b')).toBeNull();
    });

    it('ignores case, spaces and dashes in the entered code', async () => {
      const tv = await flow.client();
      const start = await flow.started(tv);
      const typed = ` ${start.user_code.toLowerCase().replace('-', ' ')} `;
      const login = await flow.enter(browser(h), typed);
      expect(text(login.doc.querySelector('h1'))).toBe('Sign in');
      const row = await flow.row(start.user_code);
      expect(row.request_id).not.toBeNull();
      const { rows } = await h.pool.query('SELECT kind, user_code, client_id, prompt FROM authorization_requests WHERE id = $1', [row.request_id]);
      expect(rows).toEqual([{ kind: 'device', user_code: start.user_code, client_id: tv.client_id, prompt: 'consent' }]);
    });

    it('refuses a POST without the CSRF token of this browser, before looking at the code', async () => {
      const tv = await flow.client();
      const start = await flow.started(tv);
      const b = browser(h);
      await b.get(`${h.url}/device`);
      // Refused before the guess limiter too: a forged post neither spends nor reserves a guess.
      const store = h.app.get<AuthFailureLimiter>(USER_CODE_LIMITER, { strict: false }).store;
      const begin = jest.spyOn(store, 'begin');
      const res = await b.post(`${h.url}/device`, { user_code: start.user_code });
      expect(res.status).toBe(403);
      const forged = await b.post(`${h.url}/device`, { user_code: start.user_code, csrf: 'A'.repeat(43) });
      expect(forged.status).toBe(403);
      // Another browser's token does not fit this browser's cookie.
      const other = browser(h);
      const otherPage = await other.get(`${h.url}/device`);
      const stolen = await b.post(`${h.url}/device`, { user_code: start.user_code, csrf: otherPage.doc.querySelector('input[name="csrf"]')!.getAttribute('value')! });
      expect(stolen.status).toBe(403);
      expect(begin).not.toHaveBeenCalled();
      begin.mockRestore();
      expect((await flow.row(start.user_code)).request_id).toBeNull();
    });

    it('takes a code once: after the person answered, the code is refused as used', async () => {
      const tv = await flow.client();
      const user = await h.user();
      const start = await flow.started(tv);
      const first = browser(h);
      const { consent } = await flow.answer(first, start.user_code, user.username);
      const again = await flow.enter(browser(h), start.user_code);
      expect(again.status).toBe(400);
      expect(text(again.doc.querySelector('.error'))).toContain('already used');
      // The consent of the first answer cannot be submitted twice either, not even as a denial: the request is finished.
      const resubmitted = await first.submit(consent, {}, { name: 'decision', value: 'deny' });
      expect(resubmitted.status).toBe(400);
      expect(text(resubmitted.doc.querySelector('h1'))).toBe('This sign-in link is no longer valid');
      expect(await flow.row(start.user_code)).toMatchObject({ status: 'approved', subject: user.id });
      // The first answer stands: the device gets its tokens, and one grant.
      const tokens = await flow.poll(tv, start.device_code);
      expect([tokens.status, typeof tokens.body.access_token]).toEqual([200, 'string']);
      expect((await h.pool.query('SELECT count(*)::int AS n FROM grants WHERE client_id = $1', [tv.client_id])).rows[0].n).toBe(1);
    });

    it('refuses a wrong code with a message, and limits guesses per address: past the limit even a right code waits (429, Retry-After)', async () => {
      const tv = await flow.client();
      const start = await flow.started(tv);
      const b = browser(h);
      const wrong = await flow.enter(b, 'BBBB-BBBB');
      expect(wrong.status).toBe(400);
      expect(text(wrong.doc.querySelector('.error'))).toContain('not valid');
      for (let i = 1; i < 10; i++) expect((await flow.enter(b, i % 2 ? 'not a code' : 'CCCC-CCCC')).status).toBe(400);
      const limited = await flow.enter(b, start.user_code);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await flow.row(start.user_code)).request_id).toBeNull();
      // Another address is not held back.
      const login = await flow.enter(browser(h), start.user_code);
      expect(text(login.doc.querySelector('h1'))).toBe('Sign in');
    });
  });

  it('gives no burst of unreserved guesses to an address that entered a valid code of its own', async () => {
    const tv = await flow.client();
    const own = await flow.started(tv);
    addresses++;
    const address = `198.51.${addresses >> 8}.${addresses & 255}`;
    const from = () => new TestBrowser(h.url, { 'X-Forwarded-For': address });
    // Every guess is reserved in the limiter's store before the code is looked up (counted here).
    const store = h.app.get<AuthFailureLimiter>(USER_CODE_LIMITER, { strict: false }).store;
    const begin = jest.spyOn(store, 'begin');
    // Anyone can start a device authorization and enter its code: that must not make the address trusted.
    expect(text((await flow.enter(from(), own.user_code)).doc.querySelector('h1'))).toBe('Sign in');
    expect((await flow.enter(from(), 'FFFF-FFFF')).status).toBe(400);
    expect(begin).toHaveBeenCalledTimes(2);
    begin.mockRestore();
    const answers = await Promise.all(Array.from({ length: 30 }, () => flow.enter(from(), 'FFFF-FFFF')));
    expect(answers.filter((a) => a.status === 400)).toHaveLength(9);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(21);
  });

  it('publishes device_authorization_endpoint and the grant type in the discovery document', async () => {
    const res = await fetch(`${h.url}/.well-known/oauth-authorization-server`);
    const doc = (await res.json()) as Record<string, unknown>;
    expect(doc.device_authorization_endpoint).toBe(`${ISSUER}/oauth2/device`);
    expect(doc.grant_types_supported).toEqual(expect.arrayContaining([DEVICE_CODE_GRANT_TYPE, 'authorization_code', 'refresh_token']));
  });

  it('registers a client for the device grant (RFC 7591), which can then start a device authorization', async () => {
    const res = await fetch(`${h.url}/oauth2/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'TV', client_uri: 'https://tv.example', redirect_uris: ['https://tv.example/cb'], grant_types: ['authorization_code', 'refresh_token', DEVICE_CODE_GRANT_TYPE], token_endpoint_auth_method: 'none' }),
    });
    expect(res.status).toBe(201);
    const registered = (await res.json()) as { client_id: string; grant_types: string[] };
    expect(registered.grant_types).toEqual(expect.arrayContaining([DEVICE_CODE_GRANT_TYPE]));
    const { rows } = await h.pool.query('SELECT grant_types FROM clients WHERE client_id = $1', [registered.client_id]);
    expect(rows[0].grant_types).toContain(DEVICE_CODE_GRANT_TYPE);
    expect((await flow.start({ client_id: registered.client_id } as never)).status).toBe(200);
  });
});

describe('device authorization grant: the global bound on user-code guesses', () => {
  let h: LoginHarness;
  let flow: DeviceFlow;
  beforeAll(async () => {
    h = await startLoginHarness({ DEVICE_USER_CODE_FAILURES_PER_ADDRESS: '100', DEVICE_USER_CODE_FAILURES: '4', DEVICE_CODE_TTL_SECONDS: '30', DEVICE_POLL_INTERVAL_SECONDS: '2' });
    flow = new DeviceFlow(h);
  });
  afterAll(() => h.close());

  it('holds back every address that guessed wrong once the guesses of all addresses reach the bound; a fresh address still gets through', async () => {
    const tv = await flow.client();
    const start = await flow.started(tv);
    expect([start.expires_in, start.interval]).toEqual([30, 2]);
    const guessers = [browser(h), browser(h), browser(h), browser(h)];
    for (const g of guessers) expect((await flow.enter(g, 'DDDD-DDDD')).status).toBe(400);
    expect((await flow.enter(guessers[0], start.user_code)).status).toBe(429);
    const login = await flow.enter(browser(h), start.user_code);
    expect(text(login.doc.querySelector('h1'))).toBe('Sign in');
  });
});
