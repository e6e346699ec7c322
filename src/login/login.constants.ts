/** Injection token of the resolved login options (defaults filled in, computed once). */
export const LOGIN_OPTIONS = Symbol('LOGIN_OPTIONS');

/** Injection token of the login form's brute-force limiter (its own counters, apart from client authentication's). */
export const LOGIN_FAILURE_LIMITER = Symbol('LOGIN_FAILURE_LIMITER');
