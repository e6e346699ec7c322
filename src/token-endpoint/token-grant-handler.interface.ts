import type { AuthenticatedClient } from '../clients/authenticated-client';

/** A successful token response (RFC 6749 §5.1). */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token?: string;
  /** The access token's scope, when it has one. */
  scope?: string;
}

/**
 * The parameters of a token request: `grant_type`, and whatever else its grant type needs (RFC 6749
 * §4.1.3 `code`, §6 `refresh_token`, ...), each sent once. Unknown parameters are ignored (§3.2).
 */
export interface TokenRequest {
  grant_type: string;
  scope?: string;
  [parameter: string]: string | undefined;
}

/**
 * One grant type of the token endpoint. A module registers it by providing a class marked with
 * `@TokenGrantHandler()`; the token endpoint finds every one at startup, dispatches on `grant_type`,
 * and lists them in `grant_types_supported`. It knows none of them by name.
 */
export interface GrantHandler {
  /** The `grant_type` value it serves (RFC 6749 §4, or an extension URI such as RFC 8628's). */
  readonly grantType: string;
  /** True when only a confidential client may use it, whatever its registration says (RFC 6749 §4.4). */
  readonly confidentialOnly?: boolean;
  /**
   * Answers a request of an authenticated client registered for this grant type. `scope` is the
   * requested scope as RFC 6749 §3.3 tokens (deduplicated), undefined when none was asked for.
   * Throws OAuthException for every refusal.
   */
  handle(request: TokenRequest, client: AuthenticatedClient, scope: string[] | undefined): Promise<TokenResponse>;
}
