import { OAuthEndpointOptions, ResolvedOAuthEndpointOptions, resolveEndpointOptions } from '../http/oauth-endpoint-options.interface';

/** `path` defaults to `oauth2/introspect`. */
export type IntrospectionModuleOptions = OAuthEndpointOptions;

export type ResolvedIntrospectionOptions = ResolvedOAuthEndpointOptions;

export function resolveIntrospectionOptions(options: IntrospectionModuleOptions = {}): ResolvedIntrospectionOptions {
  return resolveEndpointOptions(options, 'oauth2/introspect');
}
