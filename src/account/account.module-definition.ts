import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { AccountModuleOptions } from './account-options.interface';

export const {
  ConfigurableModuleClass: AccountConfigurableModule,
  MODULE_OPTIONS_TOKEN: ACCOUNT_MODULE_OPTIONS,
} = new ConfigurableModuleBuilder<AccountModuleOptions>().setClassMethodName('forRoot').build();
