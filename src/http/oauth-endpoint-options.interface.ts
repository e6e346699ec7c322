/** What every OAuth endpoint module of the set takes: where it is served and who may call it from a browser. */
export interface OAuthEndpointOptions {
  /** Route of the endpoint, without leading or trailing slash; each module has its own default. */
  path?: string;
  /** CORS origins allowed to call the endpoint from a browser; default `['*']`. */
  corsOrigins?: string[];
  /** `Access-Control-Max-Age` of preflight answers, in seconds; default 600. */
  corsMaxAgeSeconds?: number;
}

export interface ResolvedOAuthEndpointOptions {
  path: string;
  corsOrigins: string[];
  corsMaxAgeSeconds: number;
}
