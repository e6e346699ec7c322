import { Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { AuthenticatedClient } from '../clients/authenticated-client';
import type { GrantType } from '../clients/client.entity';
import { parseScope } from '../grants/scope';
import { OAuthException } from '../http/oauth.exception';
import type { GrantHandler, TokenRequest, TokenResponse } from './token-grant-handler.interface';
import { tokenGrantHandlerMarker } from './token-grant-handler.decorator';

/**
 * `POST /oauth2/token` (RFC 6749 §3.2): the checks every grant type shares, then the grant handler of
 * the request's `grant_type`. Handlers are the providers marked `@TokenGrantHandler()` anywhere in the
 * app, collected once at startup.
 */
@Injectable()
export class TokenGrantService implements OnModuleInit {
  private readonly handlers = new Map<string, GrantHandler>();

  constructor(private readonly discovery: DiscoveryService) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders({ metadataKey: tokenGrantHandlerMarker.KEY })) {
      if (!wrapper.isDependencyTreeStatic() || !wrapper.instance) {
        throw new Error(`${wrapper.name} must be a singleton provider to handle a token grant type`);
      }
      this.register(wrapper.instance as GrantHandler);
    }
  }

  /** Adds a handler; a grant type has one handler. */
  register(handler: GrantHandler): void {
    if (this.handlers.has(handler.grantType)) {
      throw new Error(`Two token grant handlers serve grant_type ${handler.grantType}: ${this.handlers.get(handler.grantType)!.constructor.name} and ${handler.constructor.name}`);
    }
    this.handlers.set(handler.grantType, handler);
  }

  /** The grant types the endpoint serves, as discovery lists them (sorted: the same app, the same document). */
  get grantTypes(): string[] {
    return [...this.handlers.keys()].sort();
  }

  /** A token request as the endpoint received it. Throws OAuthException for every refusal. */
  async exchange(request: TokenRequest, client: AuthenticatedClient | null): Promise<TokenResponse> {
    // RFC 6749 §3.2.1: the token endpoint needs to know the client, public ones included.
    if (client === null) {
      throw OAuthException.invalidClient('The token endpoint requires client authentication: send client_id, with the client secret for a confidential client.');
    }
    const handler = this.handlers.get(request.grant_type);
    if (!handler) {
      throw new OAuthException('unsupported_grant_type', `This server supports grant_type ${this.grantTypes.join(' and ')}.`);
    }
    if (!client.grantTypes.includes(handler.grantType as GrantType) || (handler.confidentialOnly && !client.confidential)) {
      throw new OAuthException('unauthorized_client', `This client is not allowed the ${handler.grantType} grant type.`);
    }
    const scope = parseScope(request.scope);
    if (scope === null) throw new OAuthException('invalid_scope', 'scope must be scope tokens separated by single spaces (RFC 6749 §3.3).');
    return handler.handle(request, client, scope);
  }
}

/** The response with its scope, when it has one. */
export function withScope(response: TokenResponse, scope: string | undefined): TokenResponse {
  return scope ? { ...response, scope } : response;
}
