import { Module } from '@nestjs/common';
import { CONFIDENTIAL_AUTH_METHODS } from '../clients/client-auth-methods';
import { ClientAuthGuard } from '../clients/client-auth.guard';
import type { OAuthEndpointOptions, ResolvedOAuthEndpointOptions } from '../http/oauth-endpoint-options.interface';
import { defineOAuthEndpointModule } from '../http/oauth-endpoint.module-builder';
import { INTROSPECTION_OPTIONS } from './introspection.constants';
import { IntrospectionController } from './introspection.controller';
import { IntrospectionService } from './introspection.service';

/** `path` defaults to `oauth2/introspect`. */
export type IntrospectionModuleOptions = OAuthEndpointOptions;

const definition = defineOAuthEndpointModule<IntrospectionModuleOptions, ResolvedOAuthEndpointOptions>({
  name: 'Introspection',
  defaultPath: 'oauth2/introspect',
  purpose: 'introspect a token',
  optionsToken: INTROSPECTION_OPTIONS,
  controller: IntrospectionController,
  providers: [IntrospectionService, ClientAuthGuard],
  exports: [IntrospectionService],
  // RFC 8414 §2, RFC 7662 §4: only confidential clients may introspect.
  metadata: (options, ctx) => ({
    introspection_endpoint: ctx.endpointUrl(options.path),
    introspection_endpoint_auth_methods_supported: [...CONFIDENTIAL_AUTH_METHODS],
  }),
});

/**
 * `POST /oauth2/introspect` (RFC 7662) for confidential clients (resource servers). A revocation shows
 * here at once: a token of a revoked grant is inactive. Needs OAuthCoreModule (global) and the host's
 * TypeORM data source.
 */
@Module(definition.metadata)
export class IntrospectionModule extends definition.ModuleClass {}

/** The introspection endpoint's fields of the authorization server metadata. */
export const IntrospectionMetadataContributor = definition.MetadataContributor;
