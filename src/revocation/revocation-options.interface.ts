/** What to do when an authenticated client presents a token that belongs to another client. */
export type ForeignClientPolicy = 'revoke' | 'ignore' | 'reject';

export interface RevocationModuleOptions {
  /** Route of the endpoint; default `oauth2/revoke`. */
  path?: string;
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
  /** CORS origins allowed to call the endpoint from a browser; default `['*']`. */
  corsOrigins?: string[];
  /** `Access-Control-Max-Age` of preflight answers, in seconds; default 600. */
  corsMaxAgeSeconds?: number;
}

export interface ResolvedRevocationOptions {
  path: string;
  anonymous: 'allow' | 'deny';
  foreignClient: ForeignClientPolicy;
  corsOrigins: string[];
  corsMaxAgeSeconds: number;
}

export function resolveRevocationOptions(options: RevocationModuleOptions = {}): ResolvedRevocationOptions {
  return {
    path: (options.path ?? 'oauth2/revoke').replace(/^\/+|\/+$/g, ''),
    anonymous: options.anonymous ?? 'allow',
    foreignClient: options.foreignClient ?? 'revoke',
    corsOrigins: options.corsOrigins?.length ? options.corsOrigins : ['*'],
    corsMaxAgeSeconds: options.corsMaxAgeSeconds ?? 600,
  };
}
