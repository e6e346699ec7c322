import { Inject, Injectable } from '@nestjs/common';
import { ClientAuthGuard } from '../clients/client-auth.guard';
import { AuthorizationServerMetadataContributor } from '../http/metadata-contributor.decorator';
import type { MetadataContext, MetadataContributor } from '../http/metadata-contributor.interface';
import type { ResolvedRevocationOptions } from './revocation-options.interface';
import { REVOCATION_OPTIONS } from './revocation.module-definition';

/** The revocation endpoint's fields of the authorization server metadata (RFC 8414 §2, RFC 7009 §2). */
@Injectable()
@AuthorizationServerMetadataContributor()
export class RevocationMetadataContributor implements MetadataContributor {
  constructor(@Inject(REVOCATION_OPTIONS) private readonly options: ResolvedRevocationOptions) {}

  metadata(ctx: MetadataContext): Record<string, unknown> {
    return {
      revocation_endpoint: ctx.endpointUrl(this.options.path),
      // Exactly what the endpoint's guard accepts.
      revocation_endpoint_auth_methods_supported: [...ClientAuthGuard.METHODS],
    };
  }
}
