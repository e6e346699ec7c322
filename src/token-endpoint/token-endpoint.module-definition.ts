import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { TokenEndpointModuleOptions } from './token-endpoint-options.interface';

export const {
  ConfigurableModuleClass: TokenEndpointConfigurableModule,
  MODULE_OPTIONS_TOKEN: TOKEN_ENDPOINT_MODULE_OPTIONS,
} = new ConfigurableModuleBuilder<TokenEndpointModuleOptions>().setClassMethodName('forRoot').build();

/** Injection token of the resolved token endpoint options (defaults filled in, computed once). */
export const TOKEN_ENDPOINT_OPTIONS = Symbol('TOKEN_ENDPOINT_OPTIONS');

/** The route path the module instance serves (fixed at import time, see withEndpointRoute). */
export const TOKEN_ENDPOINT_ROUTE = Symbol('TOKEN_ENDPOINT_ROUTE');
