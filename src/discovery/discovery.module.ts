import { Module } from '@nestjs/common';
import { DiscoveryModule as NestDiscoveryModule } from '@nestjs/core';
import { DiscoveryController } from './discovery.controller';
import { DiscoveryDocumentService } from './discovery-document.service';
import { resolveDiscoveryOptions } from './discovery-module-options.interface';
import { DISCOVERY_MODULE_OPTIONS, DISCOVERY_OPTIONS, DiscoveryConfigurableModule } from './discovery.module-definition';

/**
 * Authorization server metadata (RFC 8414) at `/.well-known/oauth-authorization-server[/<issuer path>]`.
 * Knows no feature module: each contributes its own fields through an
 * `@AuthorizationServerMetadataContributor()` provider, and the host adds static fields through
 * `forRoot({ metadata })`. The issuer comes from OAuthCoreModule.
 */
@Module({
  imports: [NestDiscoveryModule],
  controllers: [DiscoveryController],
  providers: [
    { provide: DISCOVERY_OPTIONS, inject: [DISCOVERY_MODULE_OPTIONS], useFactory: resolveDiscoveryOptions },
    DiscoveryDocumentService,
  ],
  exports: [DiscoveryDocumentService],
})
export class DiscoveryModule extends DiscoveryConfigurableModule {}
