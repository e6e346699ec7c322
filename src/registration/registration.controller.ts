import { Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { OAuthEndpointController } from '../http/oauth-endpoint.controller';
import { OAuthJson, OAuthJsonObject } from '../http/oauth-json';
import { RegistrationGuard } from './registration.guard';
import { RegistrationResponse, RegistrationService } from './registration.service';

/** `POST <path>` (RFC 7591 §3). HTTP only: the decision is the service's. */
@Controller()
export class RegistrationController extends OAuthEndpointController {
  constructor(private readonly registration: RegistrationService) {
    super();
  }

  /** RFC 7591 §3.2.1: 201 with the client information; no-store is set by the endpoint middleware. */
  @Post()
  @HttpCode(201)
  @UseGuards(RegistrationGuard)
  register(@OAuthJson('invalid_client_metadata') body: OAuthJsonObject): Promise<RegistrationResponse> {
    return this.registration.register(body);
  }
}
