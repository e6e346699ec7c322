/** Injection token of the resolved revocation options (defaults filled in, computed once). */
export const REVOCATION_OPTIONS = Symbol('REVOCATION_OPTIONS');
