import { Controller, HttpCode, Inject, Post, UseFilters, UseGuards } from '@nestjs/common';
import { AuthenticatedClient, OAuthClient } from '../clients/authenticated-client';
import { ClientAuthGuard } from '../clients/client-auth.guard';
import { OAuthEndpointController } from '../http/oauth-endpoint.controller';
import { corsOf } from '../http/oauth-endpoint-options.interface';
import { OAuthExceptionFilter } from '../http/oauth-exception.filter';
import { OAuthForm } from '../http/oauth-form';
import { oauthValidationPipe } from '../http/oauth-validation.pipe';
import { REVOCATION_OPTIONS } from './revocation.module-definition';
import type { ResolvedRevocationOptions } from './revocation-options.interface';
import { RevocationService } from './revocation.service';
import { RevokeTokenDto } from './revoke-token.dto';

/**
 * `POST <path>` (RFC 7009). HTTP only: the decision is the service's. The route path is set per module
 * instance (see RevocationModule), so this class carries no path of its own.
 */
@Controller()
@UseFilters(OAuthExceptionFilter)
export class RevocationController extends OAuthEndpointController {
  constructor(
    private readonly revocation: RevocationService,
    @Inject(REVOCATION_OPTIONS) options: ResolvedRevocationOptions,
  ) {
    super(corsOf(options), 'revoke a token');
  }

  /** RFC 7009 §2.2: 200 with an empty body, whether or not the token existed. */
  @Post()
  @HttpCode(200)
  @UseGuards(ClientAuthGuard)
  async revoke(@OAuthForm(oauthValidationPipe()) body: RevokeTokenDto, @OAuthClient() client: AuthenticatedClient | null): Promise<void> {
    await this.revocation.revokeAsRequested(body.token, client);
  }
}
