import { Controller, DynamicModule, Inject, MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { ClientAuthGuard } from '../clients/client-auth.guard';
import { oauthEndpointMiddleware } from '../oauth/oauth-endpoint.middleware';
import { RevocationController } from './revocation.controller';
import { RevocationMetadataContributor } from './revocation-metadata.contributor';
import { RevocationEvents } from './revocation-events';
import { REVOCATION_MODULE_OPTIONS, REVOCATION_OPTIONS, REVOCATION_ROUTE, RevocationConfigurableModule } from './revocation.module-definition';
import { resolveRevocationOptions, ResolvedRevocationOptions, RevocationModuleOptions } from './revocation-options.interface';
import { RevocationService } from './revocation.service';

/**
 * `POST /oauth2/revoke` (RFC 7009) with the Matrix client-server API's rules: revoking any token of a
 * grant revokes the whole grant. Needs OAuthCoreModule (global) and the host's TypeORM data source.
 */
@Module({
  providers: [
    {
      provide: REVOCATION_OPTIONS,
      inject: [REVOCATION_MODULE_OPTIONS, REVOCATION_ROUTE],
      useFactory: (options: RevocationModuleOptions, path: string) => resolveRevocationOptions({ ...options, path }),
    },
    RevocationService,
    RevocationEvents,
    ClientAuthGuard,
    RevocationMetadataContributor,
  ],
  exports: [RevocationService, RevocationEvents, REVOCATION_OPTIONS],
})
export class RevocationModule extends RevocationConfigurableModule implements NestModule {
  constructor(@Inject(REVOCATION_OPTIONS) private readonly options: ResolvedRevocationOptions) {
    super();
  }

  static override forRoot(options: RevocationModuleOptions = {}): DynamicModule {
    return withRoute(super.forRoot(options), options.path);
  }

  static override forRootAsync(options: Parameters<typeof RevocationConfigurableModule.forRootAsync>[0] & { path?: string }): DynamicModule {
    return withRoute(super.forRootAsync(options), options.path);
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(oauthEndpointMiddleware({ origins: this.options.corsOrigins, maxAgeSeconds: this.options.corsMaxAgeSeconds }))
      .forRoutes({ path: this.options.path, method: RequestMethod.ALL });
  }
}

/**
 * Routes are fixed when Nest scans controllers, before async options resolve, so the path is taken
 * at import time: a subclass of the controller carries it, leaving the base class untouched.
 */
function withRoute(module: DynamicModule, path = resolveRevocationOptions().path): DynamicModule {
  const routePath = resolveRevocationOptions({ path }).path;
  @Controller(routePath)
  class RoutedRevocationController extends RevocationController {}
  return {
    ...module,
    controllers: [RoutedRevocationController],
    providers: [...(module.providers ?? []), { provide: REVOCATION_ROUTE, useValue: routePath }],
  };
}
