import { Inject, Injectable } from '@nestjs/common';
import { TOKEN_ENDPOINT_AUTH_METHODS } from '../clients/client.entity';
import { AuthorizationServerMetadataContributor } from '../http/metadata-contributor.decorator';
import type { MetadataContext, MetadataContributor } from '../http/metadata-contributor.interface';
import type { ResolvedTokenEndpointOptions } from './token-endpoint-options.interface';
import { TOKEN_ENDPOINT_OPTIONS } from './token-endpoint.module-definition';
import { TOKEN_ENDPOINT_GRANT_TYPES } from './token-grant.service';

/** The token endpoint's fields of the authorization server metadata (RFC 8414 §2). */
@Injectable()
@AuthorizationServerMetadataContributor()
export class TokenMetadataContributor implements MetadataContributor {
  constructor(@Inject(TOKEN_ENDPOINT_OPTIONS) private readonly options: ResolvedTokenEndpointOptions) {}

  metadata(ctx: MetadataContext): Record<string, unknown> {
    return {
      token_endpoint: ctx.endpointUrl(this.options.path),
      // Public clients (`none`) use the endpoint too, for refresh_token.
      token_endpoint_auth_methods_supported: [...TOKEN_ENDPOINT_AUTH_METHODS],
      // What this endpoint serves, not every type a client may be registered with (authorization_code is not).
      grant_types_supported: [...TOKEN_ENDPOINT_GRANT_TYPES],
    };
  }
}
