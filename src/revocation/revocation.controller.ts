import { Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { AuthenticatedClient, OAuthClient } from '../clients/authenticated-client';
import { ClientAuthGuard } from '../clients/client-auth.guard';
import { OAuthEndpointController } from '../http/oauth-endpoint.controller';
import { OAuthForm } from '../http/oauth-form';
import { oauthValidationPipe } from '../http/oauth-validation.pipe';
import { RevocationService } from './revocation.service';
import { RevokeTokenDto } from './revoke-token.dto';

/** `POST <path>` (RFC 7009). HTTP only: the decision is the service's. */
@Controller()
export class RevocationController extends OAuthEndpointController {
  constructor(private readonly revocation: RevocationService) {
    super();
  }

  /** RFC 7009 §2.2: 200 with an empty body, whether or not the token existed. */
  @Post()
  @HttpCode(200)
  @UseGuards(ClientAuthGuard)
  async revoke(@OAuthForm(oauthValidationPipe()) body: RevokeTokenDto, @OAuthClient() client: AuthenticatedClient | null): Promise<void> {
    await this.revocation.revokeAsRequested(body.token, client);
  }
}
