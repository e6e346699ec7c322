import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { IntrospectionModuleOptions } from './introspection-options.interface';

export const {
  ConfigurableModuleClass: IntrospectionConfigurableModule,
  MODULE_OPTIONS_TOKEN: INTROSPECTION_MODULE_OPTIONS,
} = new ConfigurableModuleBuilder<IntrospectionModuleOptions>().setClassMethodName('forRoot').build();

/** Injection token of the resolved introspection options (defaults filled in, computed once). */
export const INTROSPECTION_OPTIONS = Symbol('INTROSPECTION_OPTIONS');

/** The route path the module instance serves (fixed at import time, see withEndpointRoute). */
export const INTROSPECTION_ROUTE = Symbol('INTROSPECTION_ROUTE');
