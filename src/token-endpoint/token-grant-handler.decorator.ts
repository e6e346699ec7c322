import { DiscoveryService } from '@nestjs/core';

/** The marker the token endpoint looks for, through Nest's DiscoveryService. */
export const tokenGrantHandlerMarker = DiscoveryService.createDecorator<void>();

/**
 * Marks a provider class implementing `GrantHandler`. Register the class in the providers of the module
 * that owns the grant type; it must be a singleton (the default scope).
 */
export function TokenGrantHandler(): ClassDecorator {
  return tokenGrantHandlerMarker();
}
