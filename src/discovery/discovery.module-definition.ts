import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { DiscoveryModuleOptions } from './discovery-module-options.interface';

export const {
  ConfigurableModuleClass: DiscoveryConfigurableModule,
  MODULE_OPTIONS_TOKEN: DISCOVERY_MODULE_OPTIONS,
} = new ConfigurableModuleBuilder<DiscoveryModuleOptions>().setClassMethodName('forRoot').build();

/** Injection token of the resolved discovery options (defaults filled in, checked once). */
export const DISCOVERY_OPTIONS = Symbol('DISCOVERY_OPTIONS');
