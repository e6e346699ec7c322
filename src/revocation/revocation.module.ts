import { Module } from '@nestjs/common';
import { TOKEN_ENDPOINT_AUTH_METHODS } from '../clients/client-auth-methods';
import { ClientAuthGuard } from '../clients/client-auth.guard';
import { defineOAuthEndpointModule } from '../http/oauth-endpoint.module-builder';
import { REVOCATION_OPTIONS, REVOCATION_PURPOSE } from './revocation.constants';
import { RevocationController } from './revocation.controller';
import type { ResolvedRevocationOptions, RevocationModuleOptions } from './revocation-options.interface';
import { RevocationService } from './revocation.service';
import { RevocationDirectRoute } from './revocation-direct-route';

/**
 * The default of `statementsInFlight`. With 2, a statement commits while the next one fills; under load
 * the groups grow instead of the statements (quick benches of 2026-12-05: 2 outran 4 and 1).
 */
const DEFAULT_STATEMENTS_IN_FLIGHT = 2;

function statementsInFlight(value: number | undefined): number {
  if (value === undefined) return DEFAULT_STATEMENTS_IN_FLIGHT;
  if (!Number.isInteger(value) || value < 0) throw new Error(`RevocationModule: statementsInFlight must be a whole number ≥ 0, got ${String(value)}`);
  return value;
}

const definition = defineOAuthEndpointModule<RevocationModuleOptions, ResolvedRevocationOptions>({
  name: 'Revocation',
  defaultPath: 'oauth2/revoke',
  purpose: REVOCATION_PURPOSE,
  optionsToken: REVOCATION_OPTIONS,
  resolve: (options) => ({
    anonymous: options.anonymous ?? 'allow',
    foreignClient: options.foreignClient ?? 'revoke',
    statementsInFlight: statementsInFlight(options.statementsInFlight),
  }),
  controller: RevocationController,
  providers: [RevocationService, ClientAuthGuard, RevocationDirectRoute],
  exports: [RevocationService, RevocationDirectRoute],
  // RFC 8414 §2, RFC 7009 §2: exactly what the endpoint's client authentication accepts.
  metadata: (options, ctx) => ({
    revocation_endpoint: ctx.endpointUrl(options.path),
    revocation_endpoint_auth_methods_supported: [...TOKEN_ENDPOINT_AUTH_METHODS],
  }),
});

/**
 * `POST /oauth2/revoke` (RFC 7009) with the Matrix client-server API's rules: revoking any token of a
 * grant revokes the whole grant. Needs OAuthCoreModule (global; it also provides RevocationEvents) and
 * the host's TypeORM data source.
 */
@Module(definition.metadata)
export class RevocationModule extends definition.ModuleClass {}

/** The revocation endpoint's fields of the authorization server metadata. */
export const RevocationMetadataContributor = definition.MetadataContributor;
export const resolveRevocationOptions = definition.resolveOptions;
