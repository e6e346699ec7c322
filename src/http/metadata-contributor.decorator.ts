import { DiscoveryService } from '@nestjs/core';

/** The marker DiscoveryModule looks for, through Nest's DiscoveryService (so it imports no feature module). */
export const metadataContributorMarker = DiscoveryService.createDecorator<void>();

/**
 * Marks a provider class implementing `MetadataContributor`. Use it next to `@Injectable()` and register
 * the class in the providers of the module that owns the fields; it must be a singleton (the default scope).
 */
export function AuthorizationServerMetadataContributor(): ClassDecorator {
  return metadataContributorMarker();
}
