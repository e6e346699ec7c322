import { Module } from '@nestjs/common';
import { defineOAuthEndpointModule } from '../http/oauth-endpoint.module-builder';
import { AuthorizationCodeGrantHandler } from './authorization-code.grant';
import { AUTHORIZATION_OPTIONS } from './authorization.constants';
import { AuthorizationController } from './authorization.controller';
import type { AuthorizationModuleOptions, ResolvedAuthorizationOptions } from './authorization-options.interface';
import { AuthorizationService } from './authorization.service';

const definition = defineOAuthEndpointModule<AuthorizationModuleOptions, ResolvedAuthorizationOptions>({
  name: 'Authorization',
  defaultPath: 'oauth2/authorize',
  purpose: 'start an authorization',
  methods: ['GET', 'POST'],
  optionsToken: AUTHORIZATION_OPTIONS,
  resolve: (options) => ({
    loginPath: options.loginPath ?? 'login',
    requestTtlSeconds: positive(options.requestTtlSeconds ?? 600, 'requestTtlSeconds'),
    codeTtlSeconds: positive(options.codeTtlSeconds ?? 60, 'codeTtlSeconds'),
    scopePolicy: options.scopePolicy,
  }),
  controller: AuthorizationController,
  // The code grant registers with the token endpoint like any other grant type.
  providers: [AuthorizationService, AuthorizationCodeGrantHandler],
  exports: [AuthorizationService],
  metadata: (options, ctx) => ({
    authorization_endpoint: ctx.endpointUrl(options.path),
    response_types_supported: ['code'],
    response_modes_supported: ['query', 'fragment'],
    // RFC 9700 §2.1.1: PKCE with S256 for every client.
    code_challenge_methods_supported: ['S256'],
    // RFC 9207: every authorization response carries iss.
    authorization_response_iss_parameter_supported: true,
  }),
});

/**
 * `GET|POST /oauth2/authorize` (RFC 6749 §4.1, RFC 7636, RFC 9207) and the authorization_code grant of
 * the token endpoint. The module owns no users: it validates the request, keeps it as a pending
 * authorization, and sends the browser to the login step (`loginPath`), which ends it through
 * `AuthorizationService.complete()` or `.deny()`. Needs OAuthCoreModule and TokenEndpointModule.
 */
@Module(definition.metadata)
export class AuthorizationModule extends definition.ModuleClass {}

export const AuthorizationMetadataContributor = definition.MetadataContributor;

function positive(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`AuthorizationModule option ${name} must be a positive whole number of seconds`);
  return value;
}
