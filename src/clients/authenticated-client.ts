import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { GrantType, TokenEndpointAuthMethod } from './client.entity';

/** Who the client is, as ClientAuthGuard established it. */
export interface AuthenticatedClient {
  clientId: string;
  /** How it authenticated in this request. */
  method: TokenEndpointAuthMethod;
  /** False for public clients (`none`). */
  confidential: boolean;
  grantTypes: GrantType[];
}

export const CLIENT_KEY = Symbol('oauthClient');
export type RequestWithClient = Request & { [CLIENT_KEY]?: AuthenticatedClient | null };

/** The client of the request, or null when the request identified no client (anonymous). */
export const OAuthClient = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): AuthenticatedClient | null => ctx.switchToHttp().getRequest<RequestWithClient>()[CLIENT_KEY] ?? null,
);
