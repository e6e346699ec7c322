import { DynamicModule, Inject, MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { formBodyMiddleware, routedController } from '../http/routed-controller';
import { normalizeEndpointPath } from '../http/oauth-endpoint.module-builder';
import { BrowserSessionsService } from './browser-sessions.service';
import { ConsentsService } from './consents.service';
import { FormTokens } from './form-tokens';
import { LoginController } from './login.controller';
import { LoginCookies } from './login-cookies';
import { LOGIN_FAILURE_LIMITER, LOGIN_OPTIONS } from './login.constants';
import { LOGIN_ASYNC_OPTIONS_TYPE, LOGIN_MODULE_OPTIONS, LoginConfigurableModule } from './login.module-definition';
import { LoginMetadataContributor } from './login-metadata.contributor';
import type { LoginModuleOptions, ResolvedLoginOptions } from './login-options.interface';
import { LoginReturnTargets } from './login-return-targets';
import { LoginService } from './login.service';
import { LoginThrottle } from './login-throttle';
import { UsersService } from './users.service';

export class LoginConfigError extends Error {
  override name = 'LoginConfigError';
}

/** The options with every default filled in; throws LoginConfigError naming a bad one. */
export function resolveLoginOptions(options: LoginModuleOptions = {}): ResolvedLoginOptions {
  if (options.secret !== undefined && options.secret.length < 32) {
    throw new LoginConfigError('LoginModule: secret must be at least 32 characters (it keys the HMAC of the forms\' CSRF tokens)');
  }
  return {
    path: normalizeEndpointPath(options.path ?? 'login'),
    sessionTtlSeconds: options.sessionTtlSeconds ?? 7 * 24 * 3600,
    secret: options.secret !== undefined ? Buffer.from(options.secret) : randomBytes(32),
    selfRegistration: options.selfRegistration ?? false,
    failureLimits: { perUsernameAddress: 5, perAddress: 50, windowSeconds: 300, ...options.failureLimits },
  };
}

/**
 * The built-in login step of the standalone server (issue 13): local accounts, server-rendered login,
 * sign-up and consent pages, browser sessions. It ends pending authorizations through the authorization
 * service, provided under LOGIN_AUTHORIZATION. Needs OAuthCoreModule and the TypeORM data source with
 * OAUTH_ENTITIES. A host with its own users does not import it: it calls the authorization service itself.
 */
@Module({
  providers: [
    { provide: LOGIN_OPTIONS, inject: [LOGIN_MODULE_OPTIONS], useFactory: resolveLoginOptions },
    { provide: FormTokens, inject: [LOGIN_OPTIONS], useFactory: (o: ResolvedLoginOptions) => new FormTokens(o.secret) },
    { provide: LOGIN_FAILURE_LIMITER, inject: [LOGIN_OPTIONS], useFactory: (o: ResolvedLoginOptions) => new LoginThrottle(o.failureLimits) },
    LoginCookies,
    UsersService,
    BrowserSessionsService,
    ConsentsService,
    LoginService,
    LoginReturnTargets,
    LoginMetadataContributor,
  ],
  exports: [LOGIN_OPTIONS, FormTokens, LoginCookies, UsersService, BrowserSessionsService, ConsentsService, LoginService, LoginReturnTargets],
})
export class LoginModule extends LoginConfigurableModule implements NestModule {
  constructor(@Inject(LOGIN_OPTIONS) private readonly options: ResolvedLoginOptions) {
    super();
  }

  static override forRoot(options: LoginModuleOptions = {}): DynamicModule {
    const module = super.forRoot(options);
    return { ...module, controllers: [routedController(LoginController, resolveLoginOptions(options).path)] };
  }

  /** `path` is fixed at import time: routes are registered before async options resolve. */
  static override forRootAsync(options: typeof LOGIN_ASYNC_OPTIONS_TYPE & { path?: string }): DynamicModule {
    const path = normalizeEndpointPath(options.path ?? 'login');
    const factory = options.useFactory;
    // The route and the resolved options must agree on the path: the factory's answer gets this one.
    const withPath = factory ? { ...options, useFactory: async (...args: unknown[]) => ({ ...(await factory(...args)), path }) } : options;
    return { ...super.forRootAsync(withPath), controllers: [routedController(LoginController, path)] };
  }

  configure(consumer: MiddlewareConsumer): void {
    // The forms' bodies, read by the same code as the OAuth endpoints' (16 KiB, each field once).
    consumer.apply(formBodyMiddleware).forRoutes(
      { path: this.options.path, method: RequestMethod.POST },
      { path: `${this.options.path}/logout`, method: RequestMethod.POST },
    );
  }
}
