import { DynamicModule, Inject, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { ClientAuthGuard } from '../clients/client-auth.guard';
import { applyOAuthEndpointMiddleware, withEndpointRoute } from '../http/oauth-endpoint-route';
import { RevocationController } from './revocation.controller';
import { REVOCATION_MODULE_OPTIONS, REVOCATION_OPTIONS, REVOCATION_ROUTE, RevocationConfigurableModule } from './revocation.module-definition';
import { resolveRevocationOptions, ResolvedRevocationOptions, RevocationModuleOptions } from './revocation-options.interface';
import { RevocationService } from './revocation.service';
import { RevocationMetadataContributor } from './revocation-metadata.contributor';

/**
 * `POST /oauth2/revoke` (RFC 7009) with the Matrix client-server API's rules: revoking any token of a
 * grant revokes the whole grant. Needs OAuthCoreModule (global; it also provides RevocationEvents) and
 * the host's TypeORM data source.
 */
@Module({
  providers: [
    {
      provide: REVOCATION_OPTIONS,
      inject: [REVOCATION_MODULE_OPTIONS, REVOCATION_ROUTE],
      useFactory: (options: RevocationModuleOptions, path: string) => resolveRevocationOptions({ ...options, path }),
    },
    RevocationService,
    ClientAuthGuard,
    RevocationMetadataContributor,
  ],
  exports: [RevocationService, REVOCATION_OPTIONS],
})
export class RevocationModule extends RevocationConfigurableModule implements NestModule {
  constructor(@Inject(REVOCATION_OPTIONS) private readonly options: ResolvedRevocationOptions) {
    super();
  }

  static override forRoot(options: RevocationModuleOptions = {}): DynamicModule {
    return withEndpointRoute(super.forRoot(options), RevocationController, REVOCATION_ROUTE, resolveRevocationOptions(options).path);
  }

  static override forRootAsync(options: Parameters<typeof RevocationConfigurableModule.forRootAsync>[0] & { path?: string }): DynamicModule {
    return withEndpointRoute(super.forRootAsync(options), RevocationController, REVOCATION_ROUTE, resolveRevocationOptions({ path: options.path }).path);
  }

  configure(consumer: MiddlewareConsumer): void {
    applyOAuthEndpointMiddleware(consumer, this.options);
  }
}
