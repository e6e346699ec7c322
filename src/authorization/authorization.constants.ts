/** Injection token of the resolved authorization endpoint options (defaults filled in, computed once). */
export const AUTHORIZATION_OPTIONS = Symbol('AUTHORIZATION_OPTIONS');
