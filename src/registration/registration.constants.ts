/** Injection token of the resolved registration options (defaults filled in, computed once). */
export const REGISTRATION_OPTIONS = Symbol('REGISTRATION_OPTIONS');
