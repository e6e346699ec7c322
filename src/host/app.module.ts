import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { AppConfig } from './config/app-config';
import type { OpenedDatabase } from '../database/database-connection';
import { dataSourceOptions } from './data-source-options';
import { initializeAndMigrate } from '../database/migration-lock';
import { DiscoveryModule } from '../discovery/discovery.module';
import { HealthController } from './health.controller';
import { OAuthCoreModule } from '../core/oauth-core.module';
import { IntrospectionModule } from '../introspection/introspection.module';
import { AuthorizationModule } from '../authorization/authorization.module';
import { RegistrationModule } from '../registration/registration.module';
import { LoginModule } from '../login/login.module';
import { DeviceAuthorizationModule } from '../device/device-authorization.module';
import { AccountModule } from '../account/account.module';
import { RevocationModule } from '../revocation/revocation.module';
import { TokenEndpointModule } from '../token-endpoint/token-endpoint.module';

/** The stand-alone authorization server: the module set wired to one database and one configuration. */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig, db: OpenedDatabase): DynamicModule {
    return {
      module: AppModule,
      imports: [
        // Connection problems are reported before Nest starts (openDatabase), so no retry loop here.
        // Migrations run under an advisory lock, so that replicas can start together on an empty database.
        TypeOrmModule.forRootAsync({
          useFactory: () => ({ ...dataSourceOptions(db, config.database), retryAttempts: 0 }),
          dataSourceFactory: (options) => initializeAndMigrate(options!),
        }),
        OAuthCoreModule.forRoot({
          issuer: config.issuer,
          tokenPrefixes: config.tokens.prefixes,
          accessTokenTtlSeconds: config.tokens.accessTtlSeconds,
          refreshTokenTtlSeconds: config.tokens.refreshTtlSeconds,
          retention: config.tokens.retention,
          authFailureLimits: config.authFailureLimits,
          cache: config.cache,
          authFailureStore: config.authFailureStore,
          authFailureMemoryBytes: config.authFailureMemoryBytes,
        }),
        RevocationModule.forRoot(config.revocation),
        TokenEndpointModule.forRoot(config.tokenEndpoint),
        IntrospectionModule.forRoot(config.introspection),
        AuthorizationModule.forRoot(config.authorization),
        ...(config.registration ? [RegistrationModule.forRoot(config.registration)] : []),
        // The built-in login step: local accounts, login and consent pages, at LOGIN_PATH.
        LoginModule.forRoot(config.login),
        // RFC 8628: the device endpoint, the verification page, and the device_code grant of the token endpoint.
        DeviceAuthorizationModule.forRoot(config.device),
        // The account page on the login's browser sessions: people list and end their own sessions.
        AccountModule.forRoot(config.account),
        // Feature modules add their own fields to the document; this host adds none of its own.
        DiscoveryModule.forRoot(config.discovery),
      ],
      controllers: [HealthController],
    };
  }
}
