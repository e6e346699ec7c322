/** Injection token of the resolved token endpoint options (defaults filled in, computed once). */
export const TOKEN_ENDPOINT_OPTIONS = Symbol('TOKEN_ENDPOINT_OPTIONS');
