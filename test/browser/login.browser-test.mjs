// A real browser on the built-in login pages: Debian's Chromium, driven by playwright-core, with
// JavaScript off and on. Run with `npm run test:browser` (it builds first); .ci/run installs Chromium
// when it is missing. Set CHROMIUM_PATH to use another binary.
//
// The server runs as `npm start` would (node dist/src/host/main.js) on a fresh embedded database, or on
// DATABASE_URL when it is set; the client and the user are made with the admin CLI, as the README says.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const USERNAME = `browser-${randomBytes(4).toString('hex')}`;
const PASSWORD = 'correct horse battery staple';
const CLIENT_ID = `browser-app-${randomBytes(4).toString('hex')}`;

let server; // { child, url, env }
let client; // the client's redirect target: { url, hits }
let browser;
let dataDir;

function admin(args, env, input) {
  return new Promise((resolve, reject) => {
    const child = execFile('node', ['dist/src/host/cli/admin.js', ...args], { env, timeout: 60000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`admin ${args.join(' ')} failed: ${stderr}`));
      else resolve(JSON.parse(stdout));
    });
    child.stdin.end(input ?? '');
  });
}

async function startServer() {
  const port = 20000 + Math.floor(Math.random() * 20000);
  dataDir = mkdtempSync(join(tmpdir(), 'nor-browser-'));
  const env = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    ISSUER: `http://127.0.0.1:${port}`,
    EMBEDDED_DATA_DIR: join(dataDir, 'pglite'),
    LOG_LEVEL: 'warn',
  };
  const child = spawn('node', ['dist/src/host/main.js'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited: ${output}`);
    const ok = await fetch(`${url}/health`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`server did not start: ${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, url, env };
}

/** The client's redirect URI: a loopback page that shows what it received. */
function startClient() {
  const hits = [];
  const srv = createServer((req, res) => {
    const u = new URL(req.url, 'http://127.0.0.1');
    hits.push(Object.fromEntries(u.searchParams));
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><title>client</title><p id="result">${u.searchParams.has('code') ? 'got a code' : 'no code'}</p>`);
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({ srv, hits, url: `http://127.0.0.1:${srv.address().port}/cb` })));
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizationUrl(challenge, state, extra = {}) {
  const u = new URL(`${server.url}/oauth2/authorize`);
  const params = {
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: client.url,
    scope: 'urn:matrix:client:api:* urn:matrix:client:device:BROWSER1',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...extra,
  };
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

async function exchange(code, verifier) {
  const res = await fetch(`${server.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: client.url, client_id: CLIENT_ID, code_verifier: verifier }),
  });
  return { status: res.status, body: await res.json() };
}

before(async () => {
  assert.ok(CHROMIUM, 'Chromium not found: apt-get install -y chromium, or set CHROMIUM_PATH');
  server = await startServer();
  client = await startClient();
  await admin(['client:create', '--id', CLIENT_ID, '--auth-method', 'none', '--grant-types', 'authorization_code,refresh_token', '--redirect-uris', client.url, '--name', 'Browser test app'], server.env);
  // One account per run mode, so that each one starts without a remembered consent.
  for (const mode of ['js-off', 'js-on', 'account']) await admin(['user:create', '--username', `${USERNAME}-${mode}`], server.env, `${PASSWORD}\n`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // The closed network refuses Chromium's own background traffic; without these it stalls on it.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  client?.srv.close();
  if (server) {
    server.child.kill('SIGTERM');
    await new Promise((r) => (server.child.exitCode !== null ? r() : server.child.once('exit', r)));
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

for (const javaScriptEnabled of [false, true]) {
  test(`logs in on the built-in pages with JavaScript ${javaScriptEnabled ? 'on' : 'off'}, and a second authorization skips the password`, async () => {
    const context = await browser.newContext({ javaScriptEnabled });
    const username = `${USERNAME}-${javaScriptEnabled ? 'js-on' : 'js-off'}`;
    try {
      const page = await context.newPage();
      const first = pkce();
      const state = randomBytes(8).toString('hex');
      await page.goto(authorizationUrl(first.challenge, state));
      assert.equal(await page.title(), 'Sign in');
      await page.fill('#username', username);
      await page.fill('#password', 'not the password');
      await page.click('button[type=submit]');
      assert.match(await page.textContent('.error'), /username or password is incorrect/);
      await page.fill('#password', PASSWORD);
      await page.click('button[type=submit]');
      // The consent page: the client's name and the Matrix scopes in words.
      assert.equal(await page.title(), 'Allow access?');
      const consent = await page.textContent('main');
      assert.match(consent, /Browser test app/);
      assert.match(consent, /Full access to your Matrix account/);
      assert.match(consent, /device ID BROWSER1/);
      await page.click('button[value=allow]');
      await page.waitForURL((u) => u.toString().startsWith(client.url));
      assert.equal(await page.textContent('#result'), 'got a code');
      const landed = new URL(page.url());
      assert.equal(landed.searchParams.get('state'), state);
      assert.equal(landed.searchParams.get('iss'), server.url);
      const tokens = await exchange(landed.searchParams.get('code'), first.verifier);
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
      assert.match(tokens.body.access_token, /^oat_/);

      // The same browser again: signed in and consent remembered, so straight back to the client.
      const second = pkce();
      await page.goto(authorizationUrl(second.challenge, 'again'));
      await page.waitForURL((u) => u.toString().startsWith(client.url));
      const again = new URL(page.url());
      assert.equal(again.searchParams.get('state'), 'again');
      assert.equal((await exchange(again.searchParams.get('code'), second.verifier)).status, 200);

      // The session cookie is HttpOnly and SameSite=Lax.
      const cookies = await context.cookies(server.url);
      const session = cookies.find((c) => c.name.endsWith('oauth_session'));
      assert.ok(session, 'a session cookie');
      assert.equal(session.httpOnly, true);
      assert.equal(session.sameSite, 'Lax');
    } finally {
      await context.close();
    }
  });
}

test('the account page lists the sessions of the signed-in person and ends one, without JavaScript', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
  const username = `${USERNAME}-account`;
  try {
    const page = await context.newPage();
    const { verifier, challenge } = pkce();
    await page.goto(authorizationUrl(challenge, 'account'));
    await page.fill('#username', username);
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    await page.click('button[value=allow]');
    await page.waitForURL((u) => u.toString().startsWith(client.url));
    const tokens = await exchange(new URL(page.url()).searchParams.get('code'), verifier);
    assert.equal(tokens.status, 200);

    // The account page, in the same browser: this session, marked as this browser, with its device id.
    await page.goto(`${server.url}/account`);
    assert.equal(await page.title(), 'Your account');
    const sessions = page.locator('section.card[id^=session-]');
    assert.equal(await sessions.count(), 1);
    const card = await sessions.first().textContent();
    assert.match(card, /Browser test app/);
    assert.match(card, /BROWSER1/);
    assert.match(card, /This browser/);
    // Fits a phone: nothing wider than the viewport.
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'the page is wider than a phone');

    await page.click('text=Sign out this session');
    assert.equal(await page.title(), 'Session');
    assert.match(await page.textContent('h1'), /Sign out this session\?/);
    await page.click('button[type=submit]');
    assert.equal(await page.title(), 'Your account');
    assert.match(await page.textContent('.notice'), /The session was signed out/);
    assert.equal(await page.locator('section.card[id^=session-]').count(), 0);

    // The app's refresh token is dead.
    const refreshed = await fetch(`${server.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token, client_id: CLIENT_ID }),
    });
    assert.equal(refreshed.status, 400);
  } finally {
    await context.close();
  }
});

test('the login page cannot be framed by another site (clickjacking)', async () => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const { challenge } = pkce();
    const framed = authorizationUrl(challenge, 'framed');
    // A page of another origin (the client's) that puts the login page in a frame.
    await page.route(`${client.url}?frame`, (route) =>
      route.fulfill({ contentType: 'text/html', body: `<!doctype html><iframe id="f" src="${framed.replace(/&/g, '&amp;')}" width="400" height="400"></iframe>` }),
    );
    // The load event waits for the frame, whether its document was shown or blocked.
    await page.goto(`${client.url}?frame`, { waitUntil: 'load' });
    const frame = page.frames().find((f) => f !== page.mainFrame());
    // Blocked by frame-ancestors 'none' / X-Frame-Options: DENY: the frame shows no form.
    const hasForm = frame ? await frame.$('#username').then((el) => el !== null, () => false) : false;
    assert.equal(hasForm, false);
    // The same page at the top level shows its form: the frame was blocked, not broken.
    const top = await context.newPage();
    await top.goto(framed);
    assert.equal(await top.title(), 'Sign in');
  } finally {
    await context.close();
  }
});

test('signs a device in (RFC 8628): the device starts over HTTP, the person opens verification_uri_complete, logs in and allows, the poll yields tokens', async () => {
  const deviceClient = `browser-tv-${randomBytes(4).toString('hex')}`;
  const username = `${USERNAME}-device`;
  await admin(['client:create', '--id', deviceClient, '--auth-method', 'none', '--grant-types', 'urn:ietf:params:oauth:grant-type:device_code,refresh_token', '--name', 'Browser test TV'], server.env);
  await admin(['user:create', '--username', username], server.env, `${PASSWORD}\n`);
  const post = async (path, params) => {
    const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params) });
    return { status: res.status, body: await res.json() };
  };
  const started = await post('/oauth2/device', { client_id: deviceClient, scope: 'urn:matrix:client:api:* urn:matrix:client:device:TV1' });
  assert.equal(started.status, 200, JSON.stringify(started.body));
  const { device_code: deviceCode, user_code: userCode, verification_uri_complete: complete } = started.body;
  const poll = () => post('/oauth2/token', { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: deviceCode, client_id: deviceClient });
  assert.equal((await poll()).body.error, 'authorization_pending');

  const context = await browser.newContext({ javaScriptEnabled: false });
  try {
    const page = await context.newPage();
    await page.goto(complete);
    assert.equal(await page.title(), 'Connect a device');
    assert.equal(await page.inputValue('#user_code'), userCode);
    await page.click('button[type=submit]');
    assert.equal(await page.title(), 'Sign in');
    await page.fill('#username', username);
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    assert.equal(await page.title(), 'Allow access?');
    const consent = await page.textContent('main');
    assert.match(consent, /Browser test TV/);
    assert.match(consent, /device ID TV1/);
    assert.equal((await page.textContent('.code')).trim(), userCode);
    await page.click('button[value=allow]');
    assert.equal(await page.title(), 'Device connected');
    assert.match(await page.textContent('main'), /return to your device/);
  } finally {
    await context.close();
  }
  const tokens = await poll();
  assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
  assert.match(tokens.body.access_token, /^oat_/);
  assert.match(tokens.body.refresh_token, /^ort_/);
  assert.equal(tokens.body.scope, 'urn:matrix:client:api:* urn:matrix:client:device:TV1');
  // Single use: the same code again is refused (and revokes what it produced).
  assert.equal((await poll()).body.error, 'invalid_grant');
});
