import type { OAuthEndpointOptions, ResolvedOAuthEndpointOptions } from '../http/oauth-endpoint-options.interface';

/** What a host's scope policy learns about the request. */
export interface ScopeRequest {
  clientId: string;
  /** The requested scope tokens (RFC 6749 §3.3), deduplicated. */
  scope: string[];
}

/** `path` defaults to `oauth2/authorize`. */
export interface AuthorizationModuleOptions extends OAuthEndpointOptions {
  /**
   * Where the browser goes to log in: a path under the issuer (default `login`) or an absolute URL. It
   * receives `?request=<id>` and ends the request through AuthorizationService.complete() or deny().
   */
  loginPath?: string;
  /** How long a pending authorization waits for the login step; default 600 s. */
  requestTtlSeconds?: number;
  /** How long an authorization code lives; default 60 s (RFC 6749 §4.1.2 recommends at most 10 minutes). */
  codeTtlSeconds?: number;
  /**
   * Scope tokens are opaque to this server (Matrix's `urn:matrix:client:api:*` pass through unchanged).
   * A host may restrict them: answer the tokens to allow (a subset), or throw to refuse with invalid_scope.
   */
  scopePolicy?: (request: ScopeRequest) => string[] | Promise<string[]>;
}

export interface ResolvedAuthorizationOptions extends ResolvedOAuthEndpointOptions {
  loginPath: string;
  requestTtlSeconds: number;
  codeTtlSeconds: number;
  scopePolicy?: (request: ScopeRequest) => string[] | Promise<string[]>;
}
