import { DynamicModule, Inject, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { ClientAuthGuard } from '../clients/client-auth.guard';
import { applyOAuthEndpointMiddleware, withEndpointRoute } from '../http/oauth-endpoint-route';
import { TokenController } from './token.controller';
import { TOKEN_ENDPOINT_MODULE_OPTIONS, TOKEN_ENDPOINT_OPTIONS, TOKEN_ENDPOINT_ROUTE, TokenEndpointConfigurableModule } from './token-endpoint.module-definition';
import { ResolvedTokenEndpointOptions, resolveTokenEndpointOptions, TokenEndpointModuleOptions } from './token-endpoint-options.interface';
import { TokenGrantService } from './token-grant.service';
import { TokenMetadataContributor } from './token-metadata.contributor';

/**
 * `POST /oauth2/token` (RFC 6749): client_credentials, and refresh_token with rotation, reuse detection
 * (RFC 9700 §4.14.2) and the Matrix lost-response retry. Needs OAuthCoreModule (global) and the host's
 * TypeORM data source.
 */
@Module({
  providers: [
    {
      provide: TOKEN_ENDPOINT_OPTIONS,
      inject: [TOKEN_ENDPOINT_MODULE_OPTIONS, TOKEN_ENDPOINT_ROUTE],
      useFactory: (options: TokenEndpointModuleOptions, path: string) => resolveTokenEndpointOptions({ ...options, path }),
    },
    TokenGrantService,
    ClientAuthGuard,
    TokenMetadataContributor,
  ],
  exports: [TokenGrantService, TOKEN_ENDPOINT_OPTIONS],
})
export class TokenEndpointModule extends TokenEndpointConfigurableModule implements NestModule {
  constructor(@Inject(TOKEN_ENDPOINT_OPTIONS) private readonly options: ResolvedTokenEndpointOptions) {
    super();
  }

  static override forRoot(options: TokenEndpointModuleOptions = {}): DynamicModule {
    return withEndpointRoute(super.forRoot(options), TokenController, TOKEN_ENDPOINT_ROUTE, resolveTokenEndpointOptions(options).path);
  }

  static override forRootAsync(options: Parameters<typeof TokenEndpointConfigurableModule.forRootAsync>[0] & { path?: string }): DynamicModule {
    return withEndpointRoute(super.forRootAsync(options), TokenController, TOKEN_ENDPOINT_ROUTE, resolveTokenEndpointOptions({ path: options.path }).path);
  }

  configure(consumer: MiddlewareConsumer): void {
    applyOAuthEndpointMiddleware(consumer, this.options);
  }
}
