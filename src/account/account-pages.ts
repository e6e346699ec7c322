import { layoutPage } from '../login/login-pages';
import type { ScopeLabel } from '../login/scope-labels';

/**
 * The account page's screens, on the login pages' layout (escaping templates, one hashed stylesheet, no
 * script): plain links and forms, so it works without JavaScript and on a phone. Every form carries the
 * CSRF token; destructive ones ask for the password when `needsPassword`.
 */

export interface SessionView {
  /** The grant id (the `session=` parameter when there is no device id). */
  id: string;
  clientName: string;
  clientUri?: string;
  deviceId?: string;
  started: string;
  lastUsed: string;
  scopes: ScopeLabel[];
  currentBrowser: boolean;
  viewHref: string;
  endHref: string;
  /** Show the Details and Sign out links (the list, not the session's own page). */
  links: boolean;
}

export interface BrowserSessionView {
  started: string;
  current: boolean;
}

interface FormBase {
  action: string;
  csrf: string;
  username: string;
}

export interface ListView extends FormBase {
  notice?: string;
  sessions: SessionView[];
  browserSessions: BrowserSessionView[];
  hasOthers: boolean;
  needsPassword: boolean;
  logoutAction: string;
  logoutCsrf: string;
  logoutReturnTo: string;
  deactivateHref: string;
  error?: string;
}

export interface SessionPageView extends FormBase {
  session: SessionView;
  /** The confirmation form (org.matrix.session_end) rather than the details alone (session_view). */
  confirm: boolean;
  needsPassword: boolean;
  listHref: string;
  error?: string;
}

export interface DeactivateView extends FormBase {
  listHref: string;
  error?: string;
}

/** One session, with the session as context. */
const SESSION_CARD = `<section class="card" id="session-{{id}}">
<h3>{{#if clientUri}}<a href="{{clientUri}}" rel="noopener noreferrer">{{clientName}}</a>{{else}}{{clientName}}{{/if}}
{{#if currentBrowser}} <span class="badge">This browser</span>{{/if}}</h3>
<dl>
{{#if deviceId}}<dt>Device</dt> <dd>{{deviceId}}</dd>{{/if}}
<dt>Signed in</dt> <dd>{{started}}</dd>
<dt>Last used</dt> <dd>{{lastUsed}}</dd>
</dl>
<ul class="scopes">{{#each scopes}}<li>{{label}}{{#if detail}} <span class="muted">({{detail}})</span>{{/if}}</li>{{/each}}</ul>
{{#if links}}<p><a href="{{viewHref}}">Details</a> · <a href="{{endHref}}">Sign out this session</a></p>{{/if}}
</section>`;

const PASSWORD_FIELD = `{{#if needsPassword}}<label for="password">Your password (you signed in a while ago)</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>{{/if}}`;

const LIST = `<h1>Your account</h1>
<p class="muted">Signed in as <strong>{{username}}</strong></p>
{{#if notice}}<p class="notice" role="status">{{notice}}</p>{{/if}}
{{#if error}}<p class="error" role="alert">{{error}}</p>{{/if}}
<h2>Signed-in apps and devices</h2>
{{#each sessions}}${SESSION_CARD}
{{else}}<p class="muted">No app is signed in to your account.</p>
{{/each}}
{{#if hasOthers}}<form method="post" action="{{action}}">
<input type="hidden" name="csrf" value="{{csrf}}">
<input type="hidden" name="step" value="end_others">
${PASSWORD_FIELD}
<button type="submit" class="secondary">Sign out everywhere else</button>
</form>{{/if}}
<h2>Browsers signed in here</h2>
{{#each browserSessions}}<section class="card"><p>Signed in {{started}}{{#if current}} <span class="badge">This browser</span>{{/if}}</p></section>
{{/each}}
<form method="post" action="{{logoutAction}}">
<input type="hidden" name="csrf" value="{{logoutCsrf}}">
<input type="hidden" name="return_to" value="{{logoutReturnTo}}">
<button type="submit" class="secondary">Sign out of this browser</button>
</form>
<h2>Account</h2>
<p><a href="{{deactivateHref}}">Deactivate your account</a></p>
`;

const SESSION = `<h1>{{#if confirm}}Sign out this session?{{else}}Session{{/if}}</h1>
{{#if error}}<p class="error" role="alert">{{error}}</p>{{/if}}
{{#with session}}${SESSION_CARD}{{/with}}
{{#if confirm}}<p>The app will be signed out at once on that device and must sign in again.</p>{{/if}}
<form method="post" action="{{action}}">
<input type="hidden" name="csrf" value="{{csrf}}">
<input type="hidden" name="step" value="end">
<input type="hidden" name="session" value="{{session.id}}">
${PASSWORD_FIELD}
<button type="submit" class="danger">Sign out this session</button>
</form>
<p><a href="{{listHref}}">Back to your account</a></p>
`;

const DEACTIVATE = `<h1>Deactivate your account?</h1>
{{#if error}}<p class="error" role="alert">{{error}}</p>{{/if}}
<p>Every app and browser signed in as <strong>{{username}}</strong> is signed out, and nobody can sign in to the account again.</p>
<form method="post" action="{{action}}">
<input type="hidden" name="csrf" value="{{csrf}}">
<input type="hidden" name="step" value="deactivate">
<label for="password">Your password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" class="danger">Deactivate account</button>
</form>
<p><a href="{{listHref}}">Back to your account</a></p>
`;

const DONE = `<h1>{{heading}}</h1>
<p>{{message}}</p>
`;

export const renderList = layoutPage<ListView>('Your account', LIST);
export const renderSession = layoutPage<SessionPageView>('Session', SESSION);
export const renderDeactivate = layoutPage<DeactivateView>('Deactivate your account', DEACTIVATE);
export const renderDone = layoutPage<{ heading: string; message: string }>('Your account', DONE);
