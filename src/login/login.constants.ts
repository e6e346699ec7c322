/** Injection token of the resolved login options (defaults filled in, computed once). */
export const LOGIN_OPTIONS = Symbol('LOGIN_OPTIONS');

/** What the login pages end a request with (see login-authorization.interface.ts): AuthorizationService's token. */
export const AUTHORIZATION_STEPS = Symbol('AUTHORIZATION_STEPS');

/** Injection token of the login form's brute-force limiter (its own counters, apart from client authentication's). */
export const LOGIN_FAILURE_LIMITER = Symbol('LOGIN_FAILURE_LIMITER');
