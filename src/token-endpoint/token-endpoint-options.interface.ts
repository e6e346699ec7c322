import { OAuthEndpointOptions, ResolvedOAuthEndpointOptions, resolveEndpointOptions } from '../http/oauth-endpoint-options.interface';

/** `path` defaults to `oauth2/token`. Token lifetimes and prefixes are OAuthCoreModule's. */
export type TokenEndpointModuleOptions = OAuthEndpointOptions;

export type ResolvedTokenEndpointOptions = ResolvedOAuthEndpointOptions;

export function resolveTokenEndpointOptions(options: TokenEndpointModuleOptions = {}): ResolvedTokenEndpointOptions {
  return resolveEndpointOptions(options, 'oauth2/token');
}
