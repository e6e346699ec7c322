/** Injection token of the resolved device authorization options (defaults filled in, computed once). */
export const DEVICE_AUTHORIZATION_OPTIONS = Symbol('DEVICE_AUTHORIZATION_OPTIONS');

/** Injection token of the limiter of user-code guesses on the verification page. */
export const USER_CODE_LIMITER = Symbol('USER_CODE_LIMITER');

/** RFC 8628 §3.4: the grant type of the token request that polls with a device code. */
export const DEVICE_CODE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:device_code';
