import { Inject, Injectable } from '@nestjs/common';
import { AuthorizationServerMetadataContributor } from '../http/metadata-contributor.decorator';
import type { MetadataContext, MetadataContributor } from '../http/metadata-contributor.interface';
import type { ResolvedIntrospectionOptions } from './introspection-options.interface';
import { INTROSPECTION_OPTIONS } from './introspection.module-definition';
import { INTROSPECTION_AUTH_METHODS } from './introspection.service';

/** The introspection endpoint's fields of the authorization server metadata (RFC 8414 §2, RFC 7662 §4). */
@Injectable()
@AuthorizationServerMetadataContributor()
export class IntrospectionMetadataContributor implements MetadataContributor {
  constructor(@Inject(INTROSPECTION_OPTIONS) private readonly options: ResolvedIntrospectionOptions) {}

  metadata(ctx: MetadataContext): Record<string, unknown> {
    return {
      introspection_endpoint: ctx.endpointUrl(this.options.path),
      introspection_endpoint_auth_methods_supported: [...INTROSPECTION_AUTH_METHODS],
    };
  }
}
