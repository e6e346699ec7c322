import { pageTemplate, renderInLayout } from '../login/login-pages';

/**
 * The verification page (RFC 8628 §3.3) in the built-in login's layout: same stylesheet, same headers
 * (pageHeaders), templates that escape every value; a plain form that works without script and on a phone.
 */
const ENTER = `<h1>Connect a device</h1>
<p>Enter the code shown on your device.</p>
{{#if error}}<p class="error" role="alert">{{error}}</p>{{/if}}
<form method="post" action="{{action}}">
<input type="hidden" name="csrf" value="{{csrf}}">
<label for="user_code">Code</label>
<input id="user_code" name="user_code" class="code" value="{{userCode}}" placeholder="BCDF-GHJK" autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="32" required>
<button type="submit">Continue</button>
</form>
<p class="muted">You will sign in and see which app asks for access before anything is allowed.</p>
`;

const RESULT = `<h1>{{heading}}</h1>
<p>{{message}}</p>
`;

export interface EnterCodeView {
  action: string;
  csrf: string;
  userCode?: string;
  error?: string;
}

const enter = pageTemplate<EnterCodeView>(ENTER);
const result = pageTemplate<{ heading: string; message: string }>(RESULT);

export function renderEnterCodePage(view: EnterCodeView): string {
  return renderInLayout('Connect a device', enter(view));
}

/** After the login step: approved or denied; anything else is the form again. */
export const RESULTS = {
  approved: { heading: 'Device connected', message: 'You may return to your device: it is signing in. You can close this page.' },
  denied: { heading: 'Access denied', message: 'The device was not signed in. You can close this page.' },
} as const;

export function renderResultPage(which: keyof typeof RESULTS): string {
  return renderInLayout(RESULTS[which].heading, result(RESULTS[which]));
}
