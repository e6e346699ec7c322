import { Controller, HttpCode, Inject, Post, UseFilters, UseGuards } from '@nestjs/common';
import { AuthenticatedClient, OAuthClient } from '../clients/authenticated-client';
import { ClientAuthGuard } from '../clients/client-auth.guard';
import { OAuthEndpointController } from '../http/oauth-endpoint.controller';
import { corsOf } from '../http/oauth-endpoint-options.interface';
import { OAuthExceptionFilter } from '../http/oauth-exception.filter';
import { OAuthForm } from '../http/oauth-form';
import { oauthValidationPipe } from '../http/oauth-validation.pipe';
import { INTROSPECTION_OPTIONS } from './introspection.module-definition';
import type { ResolvedIntrospectionOptions } from './introspection-options.interface';
import { IntrospectionResponse, IntrospectionService } from './introspection.service';
import { IntrospectTokenDto } from './introspect-token.dto';

/**
 * `POST <path>` (RFC 7662). HTTP only: the decision is the service's. The route path is set per module
 * instance (see IntrospectionModule).
 */
@Controller()
@UseFilters(OAuthExceptionFilter)
export class IntrospectionController extends OAuthEndpointController {
  constructor(
    private readonly introspection: IntrospectionService,
    @Inject(INTROSPECTION_OPTIONS) options: ResolvedIntrospectionOptions,
  ) {
    super(corsOf(options), 'introspect a token');
  }

  /** RFC 7662 §2.2: 200 with the token's state as JSON; no-store is set by the endpoint middleware. */
  @Post()
  @HttpCode(200)
  @UseGuards(ClientAuthGuard)
  introspect(@OAuthForm(oauthValidationPipe()) body: IntrospectTokenDto, @OAuthClient() client: AuthenticatedClient | null): Promise<IntrospectionResponse> {
    return this.introspection.introspectAsRequested(body.token, client);
  }
}
