import type { OAuthEndpointOptions, ResolvedOAuthEndpointOptions } from '../http/oauth-endpoint-options.interface';

/** Limits on wrong user codes entered on the verification page (RFC 8628 §5.1); 0 disables a limit. */
export interface UserCodeLimits {
  /** Wrong, expired or used codes allowed per remote address within a window. */
  perAddress: number;
  /**
   * Wrong codes from all addresses together within a window; past it, every address that already entered
   * a wrong code waits for the window's end (an address with none is never held back).
   */
  global: number;
  windowSeconds: number;
}

/** `path` (the device authorization endpoint) defaults to `oauth2/device`. */
export interface DeviceAuthorizationModuleOptions extends OAuthEndpointOptions {
  /** The verification page where a person enters the user code, under the issuer; default `device`. Fixed at import time. */
  verificationPath?: string;
  /** Lifetime of a device code and its user code (`expires_in`); default 600 s. */
  expiresInSeconds?: number;
  /** The polling interval a device is told (`interval`, RFC 8628 §3.2); default 5 s. */
  intervalSeconds?: number;
  /**
   * Key of the HMAC of the verification form's CSRF token (at least 32 characters); default a random key per
   * process. Several instances behind one name must share one (the standalone server passes LOGIN_SECRET).
   */
  secret?: string;
  /** Defaults: 10 per address and 1000 in all per 5 minutes. */
  userCodeLimits?: Partial<UserCodeLimits>;
}

export interface ResolvedDeviceAuthorizationOptions extends ResolvedOAuthEndpointOptions {
  verificationPath: string;
  expiresInSeconds: number;
  intervalSeconds: number;
  secret: Buffer;
  userCodeLimits: UserCodeLimits;
}
