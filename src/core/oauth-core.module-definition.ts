import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { OAuthCoreOptions } from './oauth-core-options.interface';

export const {
  ConfigurableModuleClass: OAuthCoreConfigurableModule,
  MODULE_OPTIONS_TOKEN: OAUTH_CORE_MODULE_OPTIONS,
} = new ConfigurableModuleBuilder<OAuthCoreOptions>()
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();

/** Injection token of the resolved (defaults filled in) core options. */
export const OAUTH_CORE_OPTIONS = Symbol('OAUTH_CORE_OPTIONS');
