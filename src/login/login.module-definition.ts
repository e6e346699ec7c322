import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { LoginModuleOptions } from './login-options.interface';

export const {
  ConfigurableModuleClass: LoginConfigurableModule,
  MODULE_OPTIONS_TOKEN: LOGIN_MODULE_OPTIONS,
  ASYNC_OPTIONS_TYPE: LOGIN_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<LoginModuleOptions>().setClassMethodName('forRoot').build();
