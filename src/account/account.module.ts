import { DynamicModule, Inject, MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { formBodyMiddleware, routedController } from '../http/routed-controller';
import { normalizeEndpointPath } from '../http/oauth-endpoint.module-builder';
import { AccountController } from './account.controller';
import { ACCOUNT_OPTIONS } from './account.constants';
import { ACCOUNT_MODULE_OPTIONS, AccountConfigurableModule } from './account.module-definition';
import { AccountMetadataContributor } from './account-metadata.contributor';
import type { AccountModuleOptions, ResolvedAccountOptions } from './account-options.interface';
import { AccountService } from './account.service';

export class AccountConfigError extends Error {
  override name = 'AccountConfigError';
}

/** The options with every default filled in; throws AccountConfigError naming a bad one. */
export function resolveAccountOptions(options: AccountModuleOptions = {}): ResolvedAccountOptions {
  const reauth = options.reauthenticateAfterSeconds ?? 300;
  if (!Number.isInteger(reauth) || reauth < 0) throw new AccountConfigError('AccountModule: reauthenticateAfterSeconds must be a whole number of seconds, 0 or more');
  const page = options.page ?? true;
  if (options.managementUri !== undefined && (page || !/^https?:\/\//.test(options.managementUri))) {
    throw new AccountConfigError('AccountModule: managementUri is the absolute http(s) URL of the host\'s own account page, with page: false');
  }
  return { path: normalizeEndpointPath(options.path ?? 'account'), reauthenticateAfterSeconds: reauth, page, managementUri: options.managementUri };
}

/**
 * People's control over their own sessions (issue 15): `AccountService` (list, end one, end the others,
 * deactivate) and the built-in account page at `<issuer>/account`, published as `account_management_uri`.
 * Needs LoginModule (accounts, browser sessions, the sign-in it sends browsers to) and RevocationModule
 * (every ending is a grant revocation) in the same app, and OAuthCoreModule.
 */
@Module({
  providers: [
    { provide: ACCOUNT_OPTIONS, inject: [ACCOUNT_MODULE_OPTIONS], useFactory: resolveAccountOptions },
    AccountService,
    AccountMetadataContributor,
  ],
  exports: [ACCOUNT_OPTIONS, AccountService],
})
export class AccountModule extends AccountConfigurableModule implements NestModule {
  constructor(@Inject(ACCOUNT_OPTIONS) private readonly options: ResolvedAccountOptions) {
    super();
  }

  static override forRoot(options: AccountModuleOptions = {}): DynamicModule {
    const resolved = resolveAccountOptions(options);
    return { ...super.forRoot(options), controllers: resolved.page ? [routedController(AccountController, resolved.path)] : [] };
  }

  configure(consumer: MiddlewareConsumer): void {
    // The forms' bodies, read by the same code as the OAuth endpoints' (16 KiB, each field once).
    if (this.options.page) {
      consumer.apply(formBodyMiddleware).forRoutes({ path: this.options.path, method: RequestMethod.POST });
    }
  }
}
