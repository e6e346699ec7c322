// An unmodified Matrix client library (matrix-js-sdk 43's OAuth2 class) logging a person in, refreshing and
// logging out against a running server, the login and consent pages driven over HTTP as a browser would
// (cookie jar, forms). Prints one JSON object of what it saw; exits non-zero on any failure.
// Usage: node test/support/matrix-sdk-login.mjs '<json>' with { base, issuer, username, password,
//   responseMode: 'query' | 'fragment', applicationType: 'native' | 'web', logout?: 'revoke' | 'account' }
// logout 'account': the person ends the session on the server's account page, at the URL a Matrix client
// opens for it (MSC4191: account_management_uri?action=org.matrix.session_end&device_id=<its device>).
import { parse } from 'node-html-parser';
import { isValidAuthMetadata, OAuth2 } from 'matrix-js-sdk/lib/oauth/index.js';
import { routeIssuerTo } from './issuer-fetch.mjs';

const { base, issuer, username, password, responseMode, applicationType, logout = 'revoke' } = JSON.parse(process.argv[2]);

routeIssuerTo(issuer, base);

/** A browser: follows redirects by hand, keeps cookies, submits forms. */
const jar = new Map();
async function browse(url, init = {}) {
  const target = url.startsWith(issuer) ? url : new URL(url, issuer).href;
  const res = await globalThis.fetch(target, { ...init, redirect: 'manual', headers: { ...(init.headers ?? {}), cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } });
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(';');
    const i = pair.indexOf('=');
    jar.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
  }
  return res;
}

/** Answers the page's form the way a person would: credentials on the login page, Allow on the consent page. */
function fill(html) {
  const form = parse(html).querySelector('form[method="post"], form[method="POST"], form');
  if (!form) throw new Error(`no form on the page: ${html.slice(0, 300)}`);
  const fields = new URLSearchParams();
  for (const input of form.querySelectorAll('input')) {
    const name = input.getAttribute('name');
    if (!name) continue;
    if (name === 'username') fields.set(name, username);
    else if (name === 'password') fields.set(name, password);
    else fields.set(name, input.getAttribute('value') ?? '');
  }
  const allow = form.querySelectorAll('button').find((b) => /allow/i.test(b.getAttribute('value') ?? b.text));
  if (allow?.getAttribute('name')) fields.set(allow.getAttribute('name'), allow.getAttribute('value'));
  return { action: form.getAttribute('action') ?? '', body: fields };
}

const seen = { pages: [] };
const metadata = await (await globalThis.fetch(`${issuer}/_matrix/client/v1/auth_metadata`)).json();
seen.validMetadata = isValidAuthMetadata(metadata);
seen.accountManagement = { uri: metadata.account_management_uri, actions: metadata.account_management_actions_supported };
if (!seen.validMetadata) throw new Error(`isValidAuthMetadata refused ${JSON.stringify(metadata)}`);

const native = applicationType === 'native';
const clientUri = native ? 'https://element.example.org' : 'https://app.element.example.org';
const registered = native ? 'http://127.0.0.1/callback' : 'https://app.element.example.org/callback';
const redirectUri = native ? 'http://127.0.0.1:47123/callback' : registered;
const clientId = await OAuth2.registerClient(metadata, { client_name: 'Element (test)', client_uri: clientUri, redirect_uris: [registered], application_type: applicationType });
seen.clientId = clientId;

const client = new OAuth2(metadata, { clientId });
const state = 'state-' + Math.random().toString(36).slice(2);
let url = await client.generateAuthorizationCodeGrantUrl(state, redirectUri, responseMode);
let location;
let res = await browse(url);
for (let step = 0; step < 12; step++) {
  if (res.status >= 300 && res.status < 400) {
    location = res.headers.get('location');
    if (location.startsWith(redirectUri)) break;
    url = new URL(location, url).href;
    res = await browse(url);
    continue;
  }
  const html = await res.text();
  if (res.status !== 200) throw new Error(`page answered ${res.status}: ${html.slice(0, 300)}`);
  seen.pages.push(parse(html).querySelector('h1')?.text.trim() ?? '(no title)');
  const { action, body } = fill(html);
  url = new URL(action || url, url).href;
  res = await browse(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
}
if (!location?.startsWith(redirectUri)) throw new Error(`never got back to the client (last: ${location})`);
const answer = new URL(location);
const params = responseMode === 'fragment' ? new URLSearchParams(answer.hash.slice(1)) : answer.searchParams;
seen.callback = { mode: responseMode, inQuery: answer.searchParams.has('code'), state: params.get('state') === state, iss: params.get('iss') };

const tokens = await client.completeAuthorizationCodeGrant(params.get('code'), redirectUri);
seen.tokens = { accessPrefix: tokens.access_token.slice(0, 4), hasRefresh: Boolean(tokens.refresh_token), scope: tokens.scope };
const refreshed = await client.performRefreshTokenGrant(tokens.refresh_token);
seen.refreshed = refreshed.access_token !== tokens.access_token && refreshed.refresh_token !== tokens.refresh_token;
seen.accessToken = refreshed.access_token;
if (logout === 'account') {
  // The device id is in the scope the client asked for (urn:matrix:client:device:<id>).
  const deviceId = tokens.scope.split(' ').find((s) => s.startsWith('urn:matrix:client:device:')).slice('urn:matrix:client:device:'.length);
  const accountUrl = new URL(metadata.account_management_uri);
  accountUrl.searchParams.set('action', 'org.matrix.session_end');
  accountUrl.searchParams.set('device_id', deviceId);
  // The same browser that signed in: its session cookie opens the page, whose form is the confirmation.
  let page = await browse(accountUrl.href);
  if (page.status !== 200) throw new Error(`the account page answered ${page.status}`);
  const html = await page.text();
  seen.accountPage = parse(html).querySelector('h1')?.text.trim();
  const { action, body } = fill(html);
  page = await browse(new URL(action, accountUrl).href, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
  seen.accountEnd = { status: page.status, location: page.headers.get('location') };
} else {
  await client.revokeToken(refreshed.access_token, 'access_token');
}
try {
  await client.performRefreshTokenGrant(refreshed.refresh_token);
  seen.refreshAfterLogout = 'accepted';
} catch (err) {
  seen.refreshAfterLogout = err.httpStatus ?? err.code ?? err.message;
}
process.stdout.write(JSON.stringify(seen) + '\n');
