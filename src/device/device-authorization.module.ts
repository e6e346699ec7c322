import { Controller, DynamicModule, Module, Type } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { AuthFailureLimiter } from '../clients/auth-failure-limiter';
import { ClientAuthGuard } from '../clients/client-auth.guard';
import { MemoryAuthFailureStore } from '../clients/memory-auth-failure-store';
import { defineOAuthEndpointModule, normalizeEndpointPath, OAuthEndpointAsyncOptions } from '../http/oauth-endpoint.module-builder';
import { DeviceAuthorizationController } from './device-authorization.controller';
import { DeviceAuthorizationService } from './device-authorization.service';
import { DeviceCodeGrantHandler } from './device-code.grant';
import { DEVICE_AUTHORIZATION_OPTIONS, USER_CODE_LIMITER } from './device.constants';
import type { DeviceAuthorizationModuleOptions, ResolvedDeviceAuthorizationOptions } from './device-options.interface';
import { DeviceVerificationController } from './device-verification.controller';

const definition = defineOAuthEndpointModule<DeviceAuthorizationModuleOptions, ResolvedDeviceAuthorizationOptions>({
  name: 'DeviceAuthorization',
  defaultPath: 'oauth2/device',
  purpose: 'start a device authorization',
  optionsToken: DEVICE_AUTHORIZATION_OPTIONS,
  resolve: (options) => {
    if (options.secret !== undefined && options.secret.length < 32) {
      throw new Error('DeviceAuthorizationModule option secret must be at least 32 characters (it keys the HMAC of the verification form\'s CSRF token)');
    }
    return {
      verificationPath: verificationPath(options),
      expiresInSeconds: positive(options.expiresInSeconds ?? 600, 'expiresInSeconds'),
      intervalSeconds: positive(options.intervalSeconds ?? 5, 'intervalSeconds'),
      secret: options.secret !== undefined ? Buffer.from(options.secret) : randomBytes(32),
      userCodeLimits: { perAddress: 10, global: 1000, windowSeconds: 300, ...options.userCodeLimits },
    };
  },
  controller: DeviceAuthorizationController,
  providers: [
    DeviceAuthorizationService,
    ClientAuthGuard,
    // The token endpoint finds it like any other grant handler (@TokenGrantHandler()).
    DeviceCodeGrantHandler,
    {
      provide: USER_CODE_LIMITER,
      inject: [DEVICE_AUTHORIZATION_OPTIONS],
      // Its own counters in process memory; the (key, address) pair of the limiter is the address here, as
      // every guess uses one key, and the key's ceiling bounds guesses from all addresses together.
      useFactory: ({ userCodeLimits: l }: ResolvedDeviceAuthorizationOptions) =>
        new AuthFailureLimiter({ perClientAddress: l.perAddress, perAddress: 0, perClient: l.global, windowSeconds: l.windowSeconds }, new MemoryAuthFailureStore()),
    },
  ],
  exports: [DeviceAuthorizationService],
  metadata: (options, ctx) => ({ device_authorization_endpoint: ctx.endpointUrl(options.path) }),
});

/**
 * The device authorization grant (RFC 8628): `POST /oauth2/device` (a device code and a user code for a
 * client registered for the grant type), the verification page at `verificationPath` where a person
 * enters the user code, and the `urn:ietf:params:oauth:grant-type:device_code` grant of the token
 * endpoint. The person signs in and consents through the login step of AuthorizationModule's pending
 * requests (the built-in LoginModule, or the host's own). Needs OAuthCoreModule, TokenEndpointModule and
 * AuthorizationModule.
 */
@Module(definition.metadata)
export class DeviceAuthorizationModule extends definition.ModuleClass {
  static override forRoot(options: DeviceAuthorizationModuleOptions = {}): DynamicModule {
    return withVerificationPage(super.forRoot(options), verificationPath(options));
  }

  /** `verificationPath`, like `path`, is fixed at import time: routes are registered before async options resolve. */
  static override forRootAsync(options: OAuthEndpointAsyncOptions<DeviceAuthorizationModuleOptions> & { verificationPath?: string }): DynamicModule {
    const path = verificationPath(options);
    const factory = options.useFactory;
    const withPath = factory ? { ...options, useFactory: async (...args: unknown[]) => ({ ...(await factory(...args)), verificationPath: path }) } : options;
    return withVerificationPage(super.forRootAsync(withPath), path);
  }
}

export const DeviceAuthorizationMetadataContributor = definition.MetadataContributor;

function verificationPath(options: { verificationPath?: string }): string {
  return normalizeEndpointPath(options.verificationPath ?? 'device');
}

/** Adds the verification page's controller at its route; the base class stays untouched. */
function withVerificationPage(module: DynamicModule, path: string): DynamicModule {
  @Controller(path)
  class RoutedDeviceVerificationController extends DeviceVerificationController {}
  return { ...module, controllers: [...(module.controllers ?? []), RoutedDeviceVerificationController as Type<DeviceVerificationController>] };
}

function positive(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`DeviceAuthorizationModule option ${name} must be a positive whole number of seconds`);
  return value;
}
