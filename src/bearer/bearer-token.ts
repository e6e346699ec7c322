import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Request } from 'express';

/** What a route learns about the access token that authorized the request (see BearerTokenGuard). */
export interface BearerPrincipal {
  /** The user the token acts for; null for a client acting for itself (client_credentials). */
  subject: string | null;
  clientId: string;
  scope: string[];
  grantId: string;
  expiresAt: Date;
}

export const BEARER_KEY = Symbol('oauthBearer');
export type RequestWithBearer = Request & { [BEARER_KEY]?: BearerPrincipal };

/** The validated access token of the request, as a handler parameter (routes behind BearerTokenGuard). */
export const BearerToken = createParamDecorator((_data: unknown, ctx: ExecutionContext): BearerPrincipal | undefined => ctx.switchToHttp().getRequest<RequestWithBearer>()[BEARER_KEY]);

export const REQUIRED_SCOPES = 'oauth:requiredScopes';

/** The scope tokens a route needs, all of them (RFC 6750 §3.1 insufficient_scope otherwise); on a handler or a controller. */
export const RequireScopes = (...scopes: string[]) => SetMetadata(REQUIRED_SCOPES, scopes);
