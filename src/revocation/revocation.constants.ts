/** Injection token of the resolved revocation options (defaults filled in, computed once). */
export const REVOCATION_OPTIONS = Symbol('REVOCATION_OPTIONS');

/** Completes "Use POST to …" in the endpoint's 405 answer. */
export const REVOCATION_PURPOSE = 'revoke a token';
