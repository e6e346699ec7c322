import { Module } from '@nestjs/common';
import { defineOAuthEndpointModule } from '../http/oauth-endpoint.module-builder';
import { RegisteredClientCleanupScheduler } from './registered-client-cleanup.scheduler';
import { RegisteredClientCleanupService } from './registered-client-cleanup.service';
import { REGISTRATION_OPTIONS } from './registration.constants';
import { RegistrationController } from './registration.controller';
import { RegistrationGuard } from './registration.guard';
import type { RegistrationModuleOptions, ResolvedRegistrationOptions } from './registration-options.interface';
import { RegistrationRateLimiter } from './registration-rate-limiter';
import { RegistrationService } from './registration.service';
import { hashToken } from '../grants/token-format';

const definition = defineOAuthEndpointModule<RegistrationModuleOptions, ResolvedRegistrationOptions>({
  name: 'Registration',
  defaultPath: 'oauth2/register',
  purpose: 'register a client',
  body: 'json',
  bodyErrorCode: 'invalid_client_metadata',
  optionsToken: REGISTRATION_OPTIONS,
  resolve: (options) => ({
    confidentialClients: options.confidentialClients ?? false,
    // Only a digest is kept, compared in constant time (see RegistrationGuard).
    initialAccessTokenHash: options.initialAccessToken ? hashToken(options.initialAccessToken) : null,
    rateLimit: { perAddress: options.rateLimit?.perAddress ?? 10, windowSeconds: options.rateLimit?.windowSeconds ?? 3600 },
    unusedClientDays: options.unusedClientDays ?? 30,
  }),
  controller: RegistrationController,
  providers: [
    RegistrationService,
    RegistrationGuard,
    RegisteredClientCleanupService,
    RegisteredClientCleanupScheduler,
    { provide: RegistrationRateLimiter, inject: [REGISTRATION_OPTIONS], useFactory: (options: ResolvedRegistrationOptions) => new RegistrationRateLimiter(options.rateLimit) },
  ],
  exports: [RegistrationService, RegisteredClientCleanupService],
  // RFC 8414 §2, RFC 7591 §3.
  metadata: (options, ctx) => ({ registration_endpoint: ctx.endpointUrl(options.path) }),
});

/**
 * `POST /oauth2/register`: dynamic client registration (RFC 7591) with the Matrix client-server API's
 * rules, for public clients (and confidential ones when enabled). Needs OAuthCoreModule (global) and the
 * host's TypeORM data source.
 */
@Module(definition.metadata)
export class RegistrationModule extends definition.ModuleClass {}

/** The registration endpoint's fields of the authorization server metadata. */
export const RegistrationMetadataContributor = definition.MetadataContributor;
export const resolveRegistrationOptions = definition.resolveOptions;
