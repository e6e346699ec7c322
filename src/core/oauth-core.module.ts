import { Module } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AuthFailureLimiter } from '../clients/auth-failure-limiter';
import { createAuthFailureStore } from '../clients/auth-failure-store.factory';
import { CLIENT_AUTH_OPTIONS } from '../clients/client-auth-options';
import { ClientsService } from '../clients/clients.service';
import { GRANTS_OPTIONS } from '../grants/grants-options';
import { TokenCleanupScheduler } from '../grants/token-cleanup.scheduler';
import { TokenCleanupService } from '../grants/token-cleanup.service';
import { TokensService } from '../grants/tokens.service';
import { TokenStateService } from '../grants/token-state.service';
import { GrantActivity } from '../grants/grant-activity.service';
import { INVALIDATION_LISTENER_OPTIONS, InvalidationListener } from '../database/invalidation-listener';
import type { OAuthCoreOptions, ResolvedOAuthCoreOptions } from './oauth-core-options.interface';
import { resolveCoreOptions } from './oauth-core-options';
import { OAUTH_CORE_MODULE_OPTIONS, OAUTH_CORE_OPTIONS, OAuthCoreConfigurableModule } from './oauth-core.module-definition';
import { RevocationEvents } from './revocation-events';

/**
 * Two registrations would be two global sets of options and services, of which feature modules silently
 * see only one (and two RevocationEvents buses): refuse to start instead.
 */
function assertRegisteredOnce(modules: ModulesContainer): void {
  const count = [...modules.values()].filter((m) => m.metatype === OAuthCoreModule).length;
  if (count > 1) {
    throw new Error(
      `OAuthCoreModule is registered ${count} times (OAuthCoreModule.forRoot or forRootAsync); register it once, in the root module: it is global, so every feature module finds it.`,
    );
  }
}

/**
 * The shared base of every OAuth module in the set: issuer, token format, clients, token issuance,
 * retention cleanup, and the one RevocationEvents bus that every path which revokes (the revoke
 * endpoint, refresh token reuse detection, operators) emits on. Global by default, so feature modules
 * (revocation, token endpoint, introspection, discovery) find it without imports.
 * Needs the host's TypeORM data source with OAUTH_ENTITIES and OAUTH_MIGRATIONS.
 *
 * clients/ and grants/ know nothing of this module: each declares the options it needs under its own
 * token, and this module provides the one resolved object under all of them.
 */
@Module({
  providers: [
    {
      provide: OAUTH_CORE_OPTIONS,
      inject: [OAUTH_CORE_MODULE_OPTIONS, ModulesContainer],
      useFactory: (options: OAuthCoreOptions, modules: ModulesContainer) => {
        assertRegisteredOnce(modules);
        return resolveCoreOptions(options);
      },
    },
    { provide: GRANTS_OPTIONS, useExisting: OAUTH_CORE_OPTIONS },
    { provide: CLIENT_AUTH_OPTIONS, useExisting: OAUTH_CORE_OPTIONS },
    {
      provide: AuthFailureLimiter,
      inject: [OAUTH_CORE_OPTIONS, DataSource],
      useFactory: async (options: ResolvedOAuthCoreOptions, dataSource: DataSource) =>
        new AuthFailureLimiter(options.authFailureLimits, await createAuthFailureStore(options.authFailureStore, dataSource, options.authFailureMemoryBytes)),
    },
    {
      provide: INVALIDATION_LISTENER_OPTIONS,
      inject: [OAUTH_CORE_OPTIONS],
      useFactory: (options: ResolvedOAuthCoreOptions) => ({ enabled: options.cache.ttlSeconds > 0, url: options.cache.listenUrl }),
    },
    InvalidationListener,
    ClientsService,
    TokensService,
    TokenStateService,
    GrantActivity,
    RevocationEvents,
    TokenCleanupService,
    TokenCleanupScheduler,
  ],
  exports: [InvalidationListener, OAUTH_CORE_OPTIONS, GRANTS_OPTIONS, CLIENT_AUTH_OPTIONS, AuthFailureLimiter, ClientsService, TokensService, TokenStateService, GrantActivity, RevocationEvents, TokenCleanupService],
})
export class OAuthCoreModule extends OAuthCoreConfigurableModule {}
