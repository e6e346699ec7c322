import { Module } from '@nestjs/common';
import { DiscoveryModule as NestDiscoveryModule } from '@nestjs/core';
import { TOKEN_ENDPOINT_AUTH_METHODS } from '../clients/client-auth-methods';
import { ClientAuthGuard } from '../clients/client-auth.guard';
import type { OAuthEndpointOptions, ResolvedOAuthEndpointOptions } from '../http/oauth-endpoint-options.interface';
import { defineOAuthEndpointModule } from '../http/oauth-endpoint.module-builder';
import { ClientCredentialsGrantHandler } from './grants/client-credentials.grant';
import { RefreshTokenGrantHandler } from './grants/refresh-token.grant';
import { TOKEN_ENDPOINT_OPTIONS } from './token-endpoint.constants';
import { TokenController } from './token.controller';
import { TokenGrantService } from './token-grant.service';

/** `path` defaults to `oauth2/token`. Token lifetimes and prefixes are OAuthCoreModule's. */
export type TokenEndpointModuleOptions = OAuthEndpointOptions;

const definition = defineOAuthEndpointModule<TokenEndpointModuleOptions, ResolvedOAuthEndpointOptions>({
  name: 'Token',
  defaultPath: 'oauth2/token',
  purpose: 'request tokens',
  optionsToken: TOKEN_ENDPOINT_OPTIONS,
  controller: TokenController,
  imports: [NestDiscoveryModule],
  // The grant types of this module; other modules register theirs the same way (@TokenGrantHandler()).
  providers: [TokenGrantService, ClientAuthGuard, RefreshTokenGrantHandler, ClientCredentialsGrantHandler],
  exports: [TokenGrantService],
  metadata: (options, ctx, moduleRef) => ({
    token_endpoint: ctx.endpointUrl(options.path),
    // Public clients (`none`) use the endpoint too, for refresh_token.
    token_endpoint_auth_methods_supported: [...TOKEN_ENDPOINT_AUTH_METHODS],
    // What the registered grant handlers serve, not every type a client may be registered with.
    grant_types_supported: moduleRef.get(TokenGrantService).grantTypes,
  }),
});

/**
 * `POST /oauth2/token` (RFC 6749): the grant types that modules register as grant handlers; this module
 * brings refresh_token (rotation, reuse detection per RFC 9700 §4.14.2, the Matrix lost-response retry)
 * and client_credentials. Needs OAuthCoreModule (global) and the host's TypeORM data source.
 */
@Module(definition.metadata)
export class TokenEndpointModule extends definition.ModuleClass {}

/** The token endpoint's fields of the authorization server metadata. */
export const TokenMetadataContributor = definition.MetadataContributor;
