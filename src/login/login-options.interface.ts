/** Brute-force limits of the login form; 0 disables a limit. */
export interface LoginFailureLimits {
  /** Failed logins allowed per (username, remote address) within a window: the limit a guesser meets first. */
  perUsernameAddress: number;
  /** Failed logins allowed per remote address within a window, whatever usernames it tries. */
  perAddress: number;
  windowSeconds: number;
}

/** Options of `LoginModule`, the built-in login step of the standalone server. */
export interface LoginModuleOptions {
  /** The route of the login and consent pages, under the issuer; default `login` (the authorization endpoint's `loginPath`). */
  path?: string;
  /** How long a browser stays signed in; default 7 days. */
  sessionTtlSeconds?: number;
  /**
   * Key of the HMAC that signs the forms' CSRF tokens (at least 32 characters). Default: a random key per
   * process, which is right for one instance; several instances behind one name must share a key.
   */
  secret?: string;
  /** `prompt=create` shows a sign-up form (Matrix user registration); default false. */
  selfRegistration?: boolean;
  /** Defaults: 5 per (username, address) and 50 per address in 5 minutes. */
  failureLimits?: Partial<LoginFailureLimits>;
}

export interface ResolvedLoginOptions {
  path: string;
  sessionTtlSeconds: number;
  secret: Buffer;
  selfRegistration: boolean;
  failureLimits: LoginFailureLimits;
}
