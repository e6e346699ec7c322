import { Inject, Injectable } from '@nestjs/common';
import { ClientsService } from '../clients/clients.service';
import { OAuthException } from '../http/oauth.exception';
import { ClientMetadataError, validateClientMetadata } from './client-metadata';
import { REGISTRATION_OPTIONS } from './registration.constants';
import type { ResolvedRegistrationOptions } from './registration-options.interface';

/** RFC 7591 §3.2.1: the client information response. */
export interface RegistrationResponse {
  client_id: string;
  /** Seconds since the epoch. */
  client_id_issued_at: number;
  client_secret?: string;
  /** 0: the secret does not expire. */
  client_secret_expires_at?: number;
  token_endpoint_auth_method: string;
  application_type: string;
  redirect_uris: string[];
  response_types: string[];
  grant_types: string[];
  [metadata: string]: unknown;
}

/** Dynamic client registration (RFC 7591) with the Matrix client-server API's rules. */
@Injectable()
export class RegistrationService {
  constructor(
    private readonly clients: ClientsService,
    @Inject(REGISTRATION_OPTIONS) private readonly options: ResolvedRegistrationOptions,
  ) {}

  /** Checks the request's metadata, stores the client and answers every registered value (RFC 7591 §3.2.1). */
  async register(body: Readonly<Record<string, unknown>>): Promise<RegistrationResponse> {
    let validated;
    try {
      validated = validateClientMetadata(body, { confidentialClients: this.options.confidentialClients });
    } catch (err) {
      if (err instanceof ClientMetadataError) throw new OAuthException(err.error, err.description, 400);
      throw err;
    }
    const client = await this.clients.register(validated);
    return {
      client_id: client.clientId,
      client_id_issued_at: Math.floor(client.registeredAt.getTime() / 1000),
      ...(client.clientSecret !== undefined ? { client_secret: client.clientSecret, client_secret_expires_at: 0 } : {}),
      ...validated.metadata,
      token_endpoint_auth_method: validated.tokenEndpointAuthMethod,
      application_type: validated.applicationType,
      redirect_uris: validated.redirectUris,
      response_types: validated.responseTypes,
      grant_types: validated.grantTypes,
    };
  }
}
