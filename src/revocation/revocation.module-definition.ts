import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { RevocationModuleOptions } from './revocation-options.interface';

export const {
  ConfigurableModuleClass: RevocationConfigurableModule,
  MODULE_OPTIONS_TOKEN: REVOCATION_MODULE_OPTIONS,
} = new ConfigurableModuleBuilder<RevocationModuleOptions>().setClassMethodName('forRoot').build();

/** Injection token of the resolved revocation options (defaults filled in, computed once). */
export const REVOCATION_OPTIONS = Symbol('REVOCATION_OPTIONS');

/** The route path the module instance serves (fixed at import time, see RevocationModule). */
export const REVOCATION_ROUTE = Symbol('REVOCATION_ROUTE');
