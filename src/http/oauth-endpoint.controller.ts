import { All, HttpCode, Options, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { OAuthException } from './oauth.exception';
import { OAuthExceptionFilter } from './oauth-exception.filter';
import { ENDPOINT_ANSWERS, EndpointRequest } from './oauth-endpoint.middleware';

/**
 * What every OAuth endpoint answers besides its POST: the CORS preflight and 405 for any other method,
 * and errors as RFC 6749 §5.2 bodies (the filter). A subclass declares its `@Post()` handler; Nest
 * registers a class's own handlers before the inherited ones, so the catch-all below never shadows it.
 * Route paths are set per module instance (see defineOAuthEndpointModule), and the answers below were
 * prepared once by the endpoint's middleware, so subclasses' constructors take only their own services.
 */
@UseFilters(OAuthExceptionFilter)
export abstract class OAuthEndpointController {
  /** CORS preflight; the allow-origin header is set by the endpoint middleware. */
  @Options()
  @HttpCode(204)
  preflight(@Req() req: Request, @Res({ passthrough: true }) res: Response): void {
    res.set((req as EndpointRequest)[ENDPOINT_ANSWERS]!.preflight);
  }

  @All()
  notAllowed(@Req() req: Request): never {
    const answers = (req as EndpointRequest)[ENDPOINT_ANSWERS]!;
    throw OAuthException.invalidRequest(answers.usage, 405, { Allow: answers.allow });
  }
}
