/** Injection token of the resolved introspection options (defaults filled in, computed once). */
export const INTROSPECTION_OPTIONS = Symbol('INTROSPECTION_OPTIONS');
