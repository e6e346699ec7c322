import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { OAUTH_CORE_OPTIONS } from '../core/oauth-core.module-definition';
import type { ResolvedOAuthCoreOptions } from '../core/oauth-core-options.interface';
import { DiscoveryConfigError } from './discovery-config.error';
import type { ResolvedDiscoveryOptions } from './discovery-module-options.interface';
import { DISCOVERY_OPTIONS } from './discovery.module-definition';
import { issuerPath, validateIssuer } from './issuer';
import { metadataContributorMarker } from '../http/metadata-contributor.decorator';
import type { MetadataContext, MetadataContributor } from '../http/metadata-contributor.interface';
import { buildMetadataDocument, MetadataContribution, MetadataDocument } from './metadata-document';
import { prepareMetadataResponse, PreparedMetadataResponse } from './metadata-response';

/**
 * The contribution registry: at bootstrap it asks every `@AuthorizationServerMetadataContributor()`
 * provider of the app for its fields, builds and checks the document once, and keeps it (frozen, with
 * its serialized body, ETag and headers) for the controller to serve from memory.
 */
@Injectable()
export class DiscoveryDocumentService implements OnApplicationBootstrap {
  private built?: { document: MetadataDocument; response: PreparedMetadataResponse };
  private readonly issuerPathSegments: readonly string[];

  constructor(
    private readonly discovery: DiscoveryService,
    @Inject(OAUTH_CORE_OPTIONS) private readonly core: ResolvedOAuthCoreOptions,
    @Inject(DISCOVERY_OPTIONS) private readonly options: ResolvedDiscoveryOptions,
  ) {
    // Checked first so that a bad issuer stops startup with the issuer's own message.
    validateIssuer(core.issuer);
    const path = issuerPath(core.issuer);
    this.issuerPathSegments = path === '' ? [] : path.slice(1).split('/').map(decodeURIComponent);
  }

  /** After every module's onModuleInit: each contributor is fully set up when it is asked. */
  onApplicationBootstrap(): void {
    const document = buildMetadataDocument(this.core.issuer, this.collectContributions(), this.options.metadata);
    this.built = { document, response: prepareMetadataResponse(document, this.options.maxAgeSeconds) };
  }

  /** The document as served (frozen). */
  get document(): MetadataDocument {
    return this.prepared().document;
  }

  get response(): PreparedMetadataResponse {
    return this.prepared().response;
  }

  /** RFC 8414 §3.1: the path after the well-known segment must be the issuer's own path, nothing else. */
  isIssuerPath(segments: readonly string[] | undefined): boolean {
    const given = segments ?? [];
    return given.length === this.issuerPathSegments.length && given.every((segment, i) => segment === this.issuerPathSegments[i]);
  }

  private prepared(): { document: MetadataDocument; response: PreparedMetadataResponse } {
    if (!this.built) throw new Error('The authorization server metadata is built when the application bootstraps (app.init() or app.listen())');
    return this.built;
  }

  private collectContributions(): MetadataContribution[] {
    const issuer = this.core.issuer;
    const ctx: MetadataContext = {
      issuer,
      endpointUrl: (path: string) => `${issuer}/${path.replace(/^\/+/, '')}`,
    };
    return this.discovery
      .getProviders({ metadataKey: metadataContributorMarker.KEY })
      .map((wrapper) => {
        const source = `${wrapper.name} (in ${wrapper.host?.name ?? 'an unknown module'})`;
        const contributor = wrapper.instance as MetadataContributor | undefined;
        // A request-scoped or transient provider has no instance at startup to ask.
        if (!wrapper.isDependencyTreeStatic() || !contributor) {
          throw new DiscoveryConfigError(`${source} must be a singleton provider to contribute authorization server metadata`);
        }
        if (typeof contributor.metadata !== 'function') {
          throw new DiscoveryConfigError(`${source} is marked @AuthorizationServerMetadataContributor() but has no metadata(ctx) method`);
        }
        return { source, fields: contributor.metadata(ctx) };
      })
      .sort((a, b) => a.source.localeCompare(b.source));
  }
}
