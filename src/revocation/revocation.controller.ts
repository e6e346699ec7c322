import { All, Controller, HttpCode, Inject, Options, Post, Res, UseFilters, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { AuthenticatedClient, OAuthClient } from '../clients/authenticated-client';
import { ClientAuthGuard } from '../clients/client-auth.guard';
import { OAuthException } from '../oauth/oauth.exception';
import { OAuthExceptionFilter } from '../oauth/oauth-exception.filter';
import { OAuthForm } from '../oauth/oauth-form';
import { preflightHeaders } from '../oauth/oauth-endpoint.middleware';
import { REVOCATION_OPTIONS } from './revocation.module-definition';
import type { ResolvedRevocationOptions } from './revocation-options.interface';
import { oauthValidationPipe } from '../oauth/oauth-validation.pipe';
import { RevocationService } from './revocation.service';
import { RevokeTokenDto } from './revoke-token.dto';

const ALLOW = 'POST, OPTIONS';

/**
 * `POST <path>` (RFC 7009). HTTP only: the decision is the service's. The route path is set per module
 * instance (see RevocationModule), so this class carries no path of its own.
 */
@Controller()
@UseFilters(OAuthExceptionFilter)
export class RevocationController {
  private readonly preflightHeaders: Record<string, string>;

  constructor(
    private readonly revocation: RevocationService,
    @Inject(REVOCATION_OPTIONS) options: ResolvedRevocationOptions,
  ) {
    this.preflightHeaders = preflightHeaders({ origins: options.corsOrigins, maxAgeSeconds: options.corsMaxAgeSeconds }, ALLOW);
  }

  /** RFC 7009 §2.2: 200 with an empty body, whether or not the token existed. */
  @Post()
  @HttpCode(200)
  @UseGuards(ClientAuthGuard)
  async revoke(@OAuthForm(oauthValidationPipe()) body: RevokeTokenDto, @OAuthClient() client: AuthenticatedClient | null): Promise<void> {
    await this.revocation.revokeAsRequested(body.token, client);
  }

  /** CORS preflight; the allow-origin header is set by the endpoint middleware. */
  @Options()
  @HttpCode(204)
  preflight(@Res({ passthrough: true }) res: Response): void {
    res.set(this.preflightHeaders);
  }

  /** Registered after POST and OPTIONS, so it answers every other method. */
  @All()
  notAllowed(): never {
    throw OAuthException.invalidRequest('Use POST to revoke a token.', 405, { Allow: ALLOW });
  }
}
