import { Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { AuthenticatedClient, OAuthClient } from '../clients/authenticated-client';
import { ClientAuthGuard } from '../clients/client-auth.guard';
import { OAuthEndpointController } from '../http/oauth-endpoint.controller';
import { OAuthForm } from '../http/oauth-form';
import { oauthValidationPipe } from '../http/oauth-validation.pipe';
import { IntrospectionResponse, IntrospectionService } from './introspection.service';
import { IntrospectTokenDto } from './introspect-token.dto';

/** `POST <path>` (RFC 7662). HTTP only: the decision is the service's. */
@Controller()
export class IntrospectionController extends OAuthEndpointController {
  constructor(private readonly introspection: IntrospectionService) {
    super();
  }

  /** RFC 7662 §2.2: 200 with the token's state as JSON; no-store is set by the endpoint middleware. */
  @Post()
  @HttpCode(200)
  @UseGuards(ClientAuthGuard)
  introspect(@OAuthForm(oauthValidationPipe()) body: IntrospectTokenDto, @OAuthClient() client: AuthenticatedClient | null): Promise<IntrospectionResponse> {
    return this.introspection.introspectAsRequested(body.token, client);
  }
}
