import type { OAuthEndpointOptions, ResolvedOAuthEndpointOptions } from '../http/oauth-endpoint-options.interface';

/** What to do when an authenticated client presents a token that belongs to another client. */
export type ForeignClientPolicy = 'revoke' | 'ignore' | 'reject';

/** `path` defaults to `oauth2/revoke`. */
export interface RevocationModuleOptions extends OAuthEndpointOptions {
  /**
   * Requests that identify no client at all (e.g. a secret scanner reporting a leaked token).
   * `allow` (default, Matrix: the server SHOULD still revoke) or `deny` (401 invalid_client).
   */
  anonymous?: 'allow' | 'deny';
  /**
   * An authenticated client presenting another client's token. `revoke` (default, Matrix),
   * `ignore` (200, nothing revoked) or `reject` (401 unauthorized_client, strict RFC 7009 §2.1).
   */
  foreignClient?: ForeignClientPolicy;
  /**
   * Revocation statements this process runs at once (default 2). Requests that arrive while all of them
   * are busy wait and go together in the next one: one transaction and one commit for the group, each
   * request decided as if alone (group commit). 0: no grouping, every request its own statement at once.
   */
  statementsInFlight?: number;
}

export interface ResolvedRevocationOptions extends ResolvedOAuthEndpointOptions {
  anonymous: 'allow' | 'deny';
  foreignClient: ForeignClientPolicy;
  statementsInFlight: number;
}
