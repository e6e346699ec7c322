import { Module } from '@nestjs/common';
import { AuthFailureLimiter, DEFAULT_AUTH_FAILURE_LIMITS } from '../clients/auth-failure-limiter';
import { ClientsService } from '../clients/clients.service';
import { RevocationEvents } from '../revocation/revocation-events';
import { TokenCleanupScheduler } from '../tokens/token-cleanup.scheduler';
import { TokenCleanupService } from '../tokens/token-cleanup.service';
import { DEFAULT_TOKEN_PREFIXES } from '../tokens/token-format';
import { TokensService } from '../tokens/tokens.service';
import type { OAuthCoreOptions, ResolvedOAuthCoreOptions } from './oauth-core-options.interface';
import { OAUTH_CORE_MODULE_OPTIONS, OAUTH_CORE_OPTIONS, OAuthCoreConfigurableModule } from './oauth-core.module-definition';

export function resolveCoreOptions(options: OAuthCoreOptions): ResolvedOAuthCoreOptions {
  return {
    issuer: options.issuer.replace(/\/+$/, ''),
    tokenPrefixes: options.tokenPrefixes ?? DEFAULT_TOKEN_PREFIXES,
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 3600,
    refreshTokenTtlSeconds: options.refreshTokenTtlSeconds ?? 30 * 24 * 3600,
    retention: {
      days: options.retention?.days ?? 30,
      cleanupIntervalSeconds: options.retention?.cleanupIntervalSeconds ?? 0,
      cleanupBatchSize: options.retention?.cleanupBatchSize ?? 1000,
    },
    authFailureLimits: { ...DEFAULT_AUTH_FAILURE_LIMITS, ...options.authFailureLimits },
  };
}

/**
 * The shared base of every OAuth module in the set: issuer, token format, clients, token issuance,
 * retention cleanup, and the one RevocationEvents bus that every path which revokes (the revoke
 * endpoint, refresh token reuse detection, operators) emits on. Global by default, so feature modules
 * (revocation, token endpoint, introspection, discovery) find it without imports.
 * Needs the host's TypeORM data source with OAUTH_ENTITIES and OAUTH_MIGRATIONS.
 */
@Module({
  providers: [
    {
      provide: OAUTH_CORE_OPTIONS,
      inject: [OAUTH_CORE_MODULE_OPTIONS],
      useFactory: resolveCoreOptions,
    },
    {
      provide: AuthFailureLimiter,
      inject: [OAUTH_CORE_OPTIONS],
      useFactory: (options: ResolvedOAuthCoreOptions) => new AuthFailureLimiter(options.authFailureLimits),
    },
    ClientsService,
    TokensService,
    RevocationEvents,
    TokenCleanupService,
    TokenCleanupScheduler,
  ],
  exports: [OAUTH_CORE_OPTIONS, AuthFailureLimiter, ClientsService, TokensService, RevocationEvents, TokenCleanupService],
})
export class OAuthCoreModule extends OAuthCoreConfigurableModule {}
