import { DynamicModule, Inject, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { ClientAuthGuard } from '../clients/client-auth.guard';
import { applyOAuthEndpointMiddleware, withEndpointRoute } from '../http/oauth-endpoint-route';
import { IntrospectionController } from './introspection.controller';
import { INTROSPECTION_MODULE_OPTIONS, INTROSPECTION_OPTIONS, INTROSPECTION_ROUTE, IntrospectionConfigurableModule } from './introspection.module-definition';
import { IntrospectionModuleOptions, ResolvedIntrospectionOptions, resolveIntrospectionOptions } from './introspection-options.interface';
import { IntrospectionService } from './introspection.service';
import { IntrospectionMetadataContributor } from './introspection-metadata.contributor';

/**
 * `POST /oauth2/introspect` (RFC 7662) for confidential clients (resource servers). A revocation shows
 * here at once: a token of a revoked grant is inactive. Needs OAuthCoreModule (global) and the host's
 * TypeORM data source.
 */
@Module({
  providers: [
    {
      provide: INTROSPECTION_OPTIONS,
      inject: [INTROSPECTION_MODULE_OPTIONS, INTROSPECTION_ROUTE],
      useFactory: (options: IntrospectionModuleOptions, path: string) => resolveIntrospectionOptions({ ...options, path }),
    },
    IntrospectionService,
    ClientAuthGuard,
    IntrospectionMetadataContributor,
  ],
  exports: [IntrospectionService, INTROSPECTION_OPTIONS],
})
export class IntrospectionModule extends IntrospectionConfigurableModule implements NestModule {
  constructor(@Inject(INTROSPECTION_OPTIONS) private readonly options: ResolvedIntrospectionOptions) {
    super();
  }

  static override forRoot(options: IntrospectionModuleOptions = {}): DynamicModule {
    return withEndpointRoute(super.forRoot(options), IntrospectionController, INTROSPECTION_ROUTE, resolveIntrospectionOptions(options).path);
  }

  static override forRootAsync(options: Parameters<typeof IntrospectionConfigurableModule.forRootAsync>[0] & { path?: string }): DynamicModule {
    return withEndpointRoute(super.forRootAsync(options), IntrospectionController, INTROSPECTION_ROUTE, resolveIntrospectionOptions({ path: options.path }).path);
  }

  configure(consumer: MiddlewareConsumer): void {
    applyOAuthEndpointMiddleware(consumer, this.options);
  }
}
