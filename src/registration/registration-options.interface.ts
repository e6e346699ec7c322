import type { OAuthEndpointOptions, ResolvedOAuthEndpointOptions } from '../http/oauth-endpoint-options.interface';

/** Registrations allowed per remote address within a window. */
export interface RegistrationRateLimit {
  /** Registration requests per address per window, successful or not; 0 disables the limit. Default 10. */
  perAddress?: number;
  /** Default 3600 s. */
  windowSeconds?: number;
}

/** `path` defaults to `oauth2/register`. */
export interface RegistrationModuleOptions extends OAuthEndpointOptions {
  /**
   * Let clients register as confidential (`client_secret_basic`, `client_secret_post`): the server generates
   * the secret, answers it once and stores its hash. Default false: public clients (`none`) only.
   */
  confidentialClients?: boolean;
  /**
   * RFC 7591 §3: when set, only requests with `Authorization: Bearer <this token>` may register; others get
   * 401 invalid_token. Default: open registration.
   */
  initialAccessToken?: string;
  rateLimit?: RegistrationRateLimit;
  /**
   * Days a dynamically registered client may go without a live grant before the retention cleanup deletes
   * it (`tokens:cleanup`, or the in-app interval). Default 30.
   */
  unusedClientDays?: number;
}

export interface ResolvedRegistrationOptions extends ResolvedOAuthEndpointOptions {
  confidentialClients: boolean;
  /** SHA-256 of the initial access token, or null when registration is open. */
  initialAccessTokenHash: Buffer | null;
  rateLimit: Required<RegistrationRateLimit>;
  unusedClientDays: number;
}
