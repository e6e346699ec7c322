// An unmodified Matrix client library (matrix-js-sdk 43's OAuth2 class) signing a device in with the device
// authorization grant (RFC 8628) against a running server: it registers, starts the grant and polls, while a
// person enters the user code on the verification page, signs in and allows, driven over HTTP as a browser
// would (cookie jar, forms). Prints one JSON object of what it saw; exits non-zero on any failure.
// Usage: node test/support/matrix-sdk-device.mjs '<json>' with { base, issuer, username, password, decision: 'allow' | 'deny',
//   endOnAccountPage?: boolean }
// endOnAccountPage: afterwards the person, in the same browser, ends the device's session on the account page at
// the URL a Matrix client opens for it (account_management_uri?action=org.matrix.session_end&device_id=…), and
// the device then tries to refresh.
import { parse } from 'node-html-parser';
import { isValidAuthMetadata, OAuth2 } from 'matrix-js-sdk/lib/oauth/index.js';
import { routeIssuerTo } from './issuer-fetch.mjs';

const { base, issuer, username, password, decision, endOnAccountPage = false } = JSON.parse(process.argv[2]);

routeIssuerTo(issuer, base);

/** A browser: follows redirects, keeps cookies, submits forms. */
const jar = new Map();
async function browse(url, init = {}) {
  let target = new URL(url, issuer).href;
  for (let hops = 0; hops < 10; hops++) {
    const res = await globalThis.fetch(target, { ...init, redirect: 'manual', headers: { ...(init.headers ?? {}), cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      jar.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
    }
    if (res.status < 300 || res.status >= 400) return { res, url: target, html: await res.text() };
    target = new URL(res.headers.get('location'), target).href;
    init = {};
  }
  throw new Error('too many redirects');
}

/**
 * Submits a form of the page: the first, or the one holding `within` (a CSS selector); `button` is the
 * submit button pressed (its name and value are sent).
 */
async function submit(page, values, { button, within } = {}) {
  const doc = parse(page.html);
  const selector = within ?? (button ? `button[name="${button.name}"][value="${button.value}"]` : undefined);
  const form = selector ? doc.querySelectorAll('form').find((f) => f.querySelector(selector)) : doc.querySelector('form');
  if (!form) throw new Error(`no form on ${page.url}: ${page.html.slice(0, 300)}`);
  const fields = new URLSearchParams();
  for (const input of form.querySelectorAll('input')) {
    const name = input.getAttribute('name');
    if (name) fields.set(name, values[name] ?? input.getAttribute('value') ?? '');
  }
  if (button) fields.set(button.name, button.value);
  return browse(new URL(form.getAttribute('action') ?? '', page.url).href, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: fields.toString() });
}

const seen = { pages: [] };
const title = (page) => parse(page.html).querySelector('h1')?.text.trim() ?? '(no title)';
const metadata = await (await globalThis.fetch(`${issuer}/_matrix/client/v1/auth_metadata`)).json();
seen.validMetadata = isValidAuthMetadata(metadata);
if (!seen.validMetadata) throw new Error(`isValidAuthMetadata refused ${JSON.stringify(metadata)}`);
seen.deviceEndpoint = metadata.device_authorization_endpoint;

// registerClient asks for the device grant itself when grant_types_supported lists it.
const clientId = await OAuth2.registerClient(metadata, { client_name: 'Element TV (test)', client_uri: 'https://tv.element.example.org', redirect_uris: ['https://tv.element.example.org/callback'], application_type: 'web' });
seen.clientId = clientId;
const client = new OAuth2(metadata, { clientId });
const session = await client.startDeviceAuthorizationGrant();
seen.session = { userCode: session.user_code, verificationUri: session.verification_uri, complete: session.verification_uri_complete, interval: session.interval, expiresIn: session.expires_in };

const waiting = client.waitForDeviceAuthorizationGrant(session);

// The person, on another device: the verification page from the link, the code already filled in.
let page = await browse(session.verification_uri_complete);
seen.pages.push(title(page));
page = await submit(page, {});
seen.pages.push(title(page));
page = await submit(page, { username, password });
seen.pages.push(title(page));
seen.consentShowsCode = parse(page.html).querySelector('.code')?.text.trim() === session.user_code;
page = await submit(page, {}, { button: { name: 'decision', value: decision } });
seen.pages.push(title(page));

const answer = await waiting;
if (answer.access_token) {
  seen.tokens = { accessPrefix: answer.access_token.slice(0, 4), hasRefresh: Boolean(answer.refresh_token), scope: answer.scope };
  seen.accessToken = answer.access_token;
  const refreshed = await client.performRefreshTokenGrant(answer.refresh_token);
  seen.refreshed = refreshed.access_token !== answer.access_token;
  seen.refreshedAccessToken = refreshed.access_token;
  if (endOnAccountPage) {
    const deviceId = answer.scope.split(' ').find((s) => s.startsWith('urn:matrix:client:device:')).slice('urn:matrix:client:device:'.length);
    const accountUrl = new URL(metadata.account_management_uri);
    accountUrl.searchParams.set('action', 'org.matrix.session_end');
    accountUrl.searchParams.set('device_id', deviceId);
    page = await browse(accountUrl.href);
    seen.accountPage = title(page);
    // The confirmation's form (the password too, should the page ask for it again); then the list.
    page = await submit(page, { password }, { within: 'input[name="step"][value="end"]' });
    seen.accountAfterEnd = { title: title(page), url: page.url };
    try {
      await client.performRefreshTokenGrant(refreshed.refresh_token);
      seen.refreshAfterEnd = 'accepted';
    } catch (err) {
      seen.refreshAfterEnd = err.httpStatus ?? err.code ?? err.message;
    }
  }
} else {
  seen.error = answer.error;
}
process.stdout.write(JSON.stringify(seen) + '\n');
