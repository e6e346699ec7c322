import { applyDecorators, Injectable } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';

/** The marker DiscoveryModule looks for, through Nest's DiscoveryService (so it imports no feature module). */
export const metadataContributorMarker = DiscoveryService.createDecorator<void>();

/**
 * Marks a provider class implementing `MetadataContributor` (and makes it `@Injectable()`).
 * Register the class in the providers of the module that owns the fields.
 */
export function AuthorizationServerMetadataContributor(): ClassDecorator {
  return applyDecorators(Injectable(), metadataContributorMarker());
}
