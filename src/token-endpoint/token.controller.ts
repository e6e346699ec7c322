import { Controller, HttpCode, Inject, Post, UseFilters, UseGuards } from '@nestjs/common';
import { AuthenticatedClient, OAuthClient } from '../clients/authenticated-client';
import { ClientAuthGuard } from '../clients/client-auth.guard';
import { OAuthEndpointController } from '../http/oauth-endpoint.controller';
import { corsOf } from '../http/oauth-endpoint-options.interface';
import { OAuthExceptionFilter } from '../http/oauth-exception.filter';
import { OAuthForm } from '../http/oauth-form';
import { oauthValidationPipe } from '../http/oauth-validation.pipe';
import { TOKEN_ENDPOINT_OPTIONS } from './token-endpoint.module-definition';
import type { ResolvedTokenEndpointOptions } from './token-endpoint-options.interface';
import { TokenGrantService, TokenResponse } from './token-grant.service';
import { TokenRequestDto } from './token-request.dto';

/**
 * `POST <path>` (RFC 6749 §3.2). HTTP only: the decision is TokenGrantService's. The route path is set
 * per module instance (see TokenEndpointModule).
 */
@Controller()
@UseFilters(OAuthExceptionFilter)
export class TokenController extends OAuthEndpointController {
  constructor(
    private readonly grants: TokenGrantService,
    @Inject(TOKEN_ENDPOINT_OPTIONS) options: ResolvedTokenEndpointOptions,
  ) {
    super(corsOf(options), 'request tokens');
  }

  /** RFC 6749 §5.1: 200 with the tokens as JSON; no-store is set by the endpoint middleware. */
  @Post()
  @HttpCode(200)
  @UseGuards(ClientAuthGuard)
  token(@OAuthForm(oauthValidationPipe()) body: TokenRequestDto, @OAuthClient() client: AuthenticatedClient | null): Promise<TokenResponse> {
    return this.grants.exchange(body, client);
  }
}
