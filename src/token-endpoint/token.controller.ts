import { Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { AuthenticatedClient, OAuthClient } from '../clients/authenticated-client';
import { ClientAuthGuard } from '../clients/client-auth.guard';
import { OAuthEndpointController } from '../http/oauth-endpoint.controller';
import { OAuthForm } from '../http/oauth-form';
import { oauthValidationPipe } from '../http/oauth-validation.pipe';
import type { TokenResponse } from './token-grant-handler.interface';
import { TokenGrantService } from './token-grant.service';
import { TokenRequestDto } from './token-request.dto';

/** `POST <path>` (RFC 6749 §3.2). HTTP only: the decision is TokenGrantService's and its grant handlers'. */
@Controller()
export class TokenController extends OAuthEndpointController {
  constructor(private readonly grants: TokenGrantService) {
    super();
  }

  /** RFC 6749 §5.1: 200 with the tokens as JSON; no-store is set by the endpoint middleware. */
  @Post()
  @HttpCode(200)
  @UseGuards(ClientAuthGuard)
  token(@OAuthForm(oauthValidationPipe()) body: TokenRequestDto, @OAuthClient() client: AuthenticatedClient | null): Promise<TokenResponse> {
    return this.grants.exchange(body, client);
  }
}
