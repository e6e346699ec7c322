import { Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { AuthenticatedClient, OAuthClient } from '../clients/authenticated-client';
import { ClientAuthGuard } from '../clients/client-auth.guard';
import { OAuthEndpointController } from '../http/oauth-endpoint.controller';
import { OAuthForm } from '../http/oauth-form';
import { oauthValidationPipe } from '../http/oauth-validation.pipe';
import { ScopedClientRequestDto } from '../http/scoped-client-request.dto';
import { DeviceAuthorizationResponse, DeviceAuthorizationService } from './device-authorization.service';

/** `POST <path>` (RFC 8628 §3.1). HTTP only: the decision is the service's. */
@Controller()
export class DeviceAuthorizationController extends OAuthEndpointController {
  constructor(private readonly devices: DeviceAuthorizationService) {
    super();
  }

  /** RFC 8628 §3.2: 200 with the codes as JSON; no-store is set by the endpoint middleware. */
  @Post()
  @HttpCode(200)
  @UseGuards(ClientAuthGuard)
  start(@OAuthForm(oauthValidationPipe()) body: ScopedClientRequestDto, @OAuthClient() client: AuthenticatedClient | null): Promise<DeviceAuthorizationResponse> {
    return this.devices.start(client, body.scope);
  }
}
