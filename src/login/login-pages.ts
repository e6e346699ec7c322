import { createHash } from 'node:crypto';
import Handlebars from 'handlebars';
import type { ScopeLabel } from './scope-labels';
import { HTML_PAGE_HEADERS } from '../http/html-page';

/**
 * The built-in login's pages: Handlebars templates, which escape every `{{value}}` by default; only the
 * layout inserts the already-rendered body with `{{{body}}}`. Plain HTML forms, no script, one inline
 * stylesheet allowed by its hash in the Content-Security-Policy; readable on a phone (viewport meta,
 * one narrow column). Templates are strings in this file so the build ships them.
 */

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1b1f;background:#f4f4f6}
main{max-width:26rem;margin:2rem auto;padding:1.5rem;background:#fff;border-radius:.75rem;box-shadow:0 1px 4px rgba(0,0,0,.12)}
h1{font-size:1.4rem;margin:0 0 1rem}
label{display:block;margin:.75rem 0 .25rem;font-weight:600}
input{width:100%;padding:.6rem;font-size:1rem;border:1px solid #8a8a94;border-radius:.4rem}
button{width:100%;margin-top:1rem;padding:.7rem;font-size:1rem;border:0;border-radius:.4rem;background:#0b5cad;color:#fff;cursor:pointer}
button.secondary{background:#e4e4ea;color:#1b1b1f}
button.link{background:none;color:#0b5cad;text-decoration:underline;padding:0;width:auto}
.error{padding:.6rem;border-radius:.4rem;background:#fde8e8;color:#8a1111}
.muted{color:#55555f;font-size:.9rem}
.logo{float:right;width:64px;height:64px;object-fit:contain;margin:0 0 .5rem .5rem}
ul.scopes{padding-left:1.2rem}
.code{font-family:ui-monospace,monospace;font-size:1.3rem;letter-spacing:.1em}
a{color:#0b5cad}
.notice{padding:.6rem;border-radius:.4rem;background:#e8f1fd;color:#0b3d73}
.card{border:1px solid #d8d8de;border-radius:.5rem;padding:.75rem;margin:.75rem 0;overflow-wrap:anywhere}
.card h3{font-size:1.05rem;margin:0 0 .25rem}
.badge{display:inline-block;padding:0 .4rem;border-radius:.3rem;background:#e2f3e6;color:#155724;font-size:.8rem;font-weight:600}
dl{margin:.25rem 0;display:grid;grid-template-columns:auto 1fr;gap:.1rem .75rem}
dt{color:#55555f}
dd{margin:0}
button.danger{background:#b3261e}
h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
`.trim();

/** `style-src` allows exactly this stylesheet; nothing else may style or script the pages. */
export const STYLE_HASH = `'sha256-${createHash('sha256').update(CSS).digest('base64')}'`;

const LAYOUT = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{title}}</title>
<style>{{{css}}}</style>
</head>
<body>
<main>
{{{body}}}
</main>
</body>
</html>
`;

/** The username field of the sign-in and sign-up forms. */
const USERNAME_FIELD = `<label for="username">Username</label>
<input id="username" name="username" value="{{username}}" autocomplete="username" autocapitalize="none" spellcheck="false" required>`;

const LOGIN = `<h1>Sign in</h1>
{{#if clientName}}<p>to continue to <strong>{{clientName}}</strong></p>{{/if}}
{{#if error}}<p class="error" role="alert">{{error}}</p>{{/if}}
<form method="post" action="{{action}}">
<input type="hidden" name="csrf" value="{{csrf}}">
<input type="hidden" name="step" value="login">
${USERNAME_FIELD}
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
{{#if signupAction}}<p class="muted">No account yet? <a href="{{signupAction}}">Create one</a>.</p>{{/if}}
`;

const SIGNUP = `<h1>Create an account</h1>
<p>to continue to <strong>{{clientName}}</strong></p>
{{#if error}}<p class="error" role="alert">{{error}}</p>{{/if}}
<form method="post" action="{{action}}">
<input type="hidden" name="csrf" value="{{csrf}}">
<input type="hidden" name="step" value="signup">
${USERNAME_FIELD}
<label for="password">Password (at least {{minLength}} characters)</label>
<input id="password" name="password" type="password" autocomplete="new-password" minlength="{{minLength}}" required>
<label for="confirm">Password again</label>
<input id="confirm" name="confirm" type="password" autocomplete="new-password" minlength="{{minLength}}" required>
<button type="submit">Create account</button>
</form>
<p class="muted">Have an account? <a href="{{loginAction}}">Sign in</a>.</p>
`;

const CONSENT = `<h1>Allow access?</h1>
{{#if userCode}}<p>A device asks to sign in. Allow only if it shows this code: <strong class="code">{{userCode}}</strong></p>{{/if}}
{{#if logoUri}}<img class="logo" src="{{logoUri}}" alt="" width="64" height="64">{{/if}}
<p><strong>{{clientName}}</strong>{{#if clientUri}} (<a href="{{clientUri}}" rel="noopener noreferrer">{{clientHost}}</a>){{/if}} asks to:</p>
<ul class="scopes">
{{#each scopes}}<li>{{label}}{{#if detail}} <span class="muted">({{detail}})</span>{{/if}}</li>
{{else}}<li>Know that you signed in</li>
{{/each}}</ul>
{{#if tosUri}}<p class="muted"><a href="{{tosUri}}" rel="noopener noreferrer">Terms of service</a>{{#if policyUri}} · <a href="{{policyUri}}" rel="noopener noreferrer">Privacy policy</a>{{/if}}</p>
{{else}}{{#if policyUri}}<p class="muted"><a href="{{policyUri}}" rel="noopener noreferrer">Privacy policy</a></p>{{/if}}{{/if}}
<p class="muted">Signed in as <strong>{{username}}</strong>. Only allow apps you trust.</p>
<form method="post" action="{{action}}">
<input type="hidden" name="csrf" value="{{csrf}}">
<input type="hidden" name="step" value="consent">
{{#if proof}}<input type="hidden" name="proof" value="{{proof}}">{{/if}}
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</form>
<form method="post" action="{{action}}">
<input type="hidden" name="csrf" value="{{csrf}}">
<input type="hidden" name="step" value="switch">
<p class="muted">Not {{username}}? <button type="submit" class="link">Sign in as someone else</button></p>
</form>
`;

const ERROR = `<h1>{{heading}}</h1>
<p>{{message}}</p>
`;

const hb = Handlebars.create();
const compile = (source: string) => hb.compile(source, { knownHelpersOnly: true, strict: false });

/**
 * Another page on the login pages' layout, stylesheet and escaping rules (the account page): `source` is a
 * body template; the answer renders a whole document titled `title`. Send it with `pageHeaders()`.
 */
export function layoutPage<T>(title: string, source: string): (view: T) => string {
  const body = compile(source);
  return (view: T) => layout({ title, css: CSS, body: body(view) });
}
const layout = compile(LAYOUT);
const templates = { login: compile(LOGIN), signup: compile(SIGNUP), consent: compile(CONSENT), error: compile(ERROR) };

export interface ClientView {
  clientName: string;
  clientUri?: string;
  clientHost?: string;
  logoUri?: string;
  tosUri?: string;
  policyUri?: string;
}

export interface FormView {
  /** The form's target: `?request=<id>` (the current path). */
  action: string;
  csrf: string;
}

export interface LoginView extends Partial<ClientView>, FormView {
  username?: string;
  error?: string;
  signupAction?: string;
}

export interface SignupView extends ClientView, FormView {
  username?: string;
  error?: string;
  minLength: number;
  loginAction: string;
}

export interface ConsentView extends ClientView, FormView {
  username: string;
  scopes: ScopeLabel[];
  proof?: string;
  /** A device authorization (RFC 8628): the code the device shows, so the person can compare. */
  userCode?: string;
}

export interface ErrorView {
  heading: string;
  message: string;
}

export type PageView =
  | { page: 'login'; view: LoginView }
  | { page: 'signup'; view: SignupView }
  | { page: 'consent'; view: ConsentView }
  | { page: 'error'; view: ErrorView };

const TITLES: Record<PageView['page'], string> = { login: 'Sign in', signup: 'Create an account', consent: 'Allow access?', error: 'Sign-in problem' };

export function renderPage(p: PageView): string {
  return renderInLayout(TITLES[p.page], (templates[p.page] as (v: unknown) => string)(p.view));
}

/** The pages' layout (and stylesheet, allowed by pageHeaders' CSP) around an already-rendered body: for pages of other modules. */
export function renderInLayout(title: string, body: string): string {
  return layout({ title, css: CSS, body });
}

/** A template compiled as the pages' are: `{{value}}` escapes, no helpers beyond the built-in ones. */
export function pageTemplate<T>(source: string): (view: T) => string {
  return compile(source) as (view: T) => string;
}

/**
 * Headers of every page: a policy that allows no script, no framing (clickjacking: CSP frame-ancestors and,
 * for older browsers, X-Frame-Options), images over https only (a client's logo), and forms posting to this
 * server only, plus the client's redirect target: browsers apply form-action to the redirect that follows a
 * form (the Allow button's 303 to the client).
 */
export function pageHeaders(redirectUri?: string): Readonly<Record<string, string>> {
  const target = redirectUri ? formActionSource(redirectUri) : undefined;
  return target ? withFormTargets(`'self' ${target}`) : SELF_ONLY_PAGE_HEADERS;
}

/** The shared page headers, with this pages' own policy (their one stylesheet by hash) and form targets. */
function withFormTargets(formTargets: string): Readonly<Record<string, string>> {
  return Object.freeze({
    ...HTML_PAGE_HEADERS,
    'Content-Security-Policy': `default-src 'none'; style-src ${STYLE_HASH}; img-src https:; form-action ${formTargets}; frame-ancestors 'none'; base-uri 'none'`,
  });
}

/** Built once: the headers of a page whose forms post to this server only (every page but consent). */
const SELF_ONLY_PAGE_HEADERS = withFormTargets("'self'");

/** The CSP source that allows a redirect URI: its origin (http, https) or its private-use scheme (`com.example.app:`). */
export function formActionSource(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  if (url.protocol === 'https:' || url.protocol === 'http:') return url.origin;
  return /^[a-z][a-z0-9+.-]*:$/i.test(url.protocol) ? url.protocol : undefined;
}
