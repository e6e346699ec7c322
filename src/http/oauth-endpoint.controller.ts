import { All, HttpCode, Options, Res } from '@nestjs/common';
import type { Response } from 'express';
import { OAuthException } from './oauth.exception';
import { OAuthCorsOptions, preflightHeaders } from './oauth-endpoint.middleware';

const ALLOW = 'POST, OPTIONS';

/**
 * What every OAuth endpoint answers besides its POST: the CORS preflight and 405 for any other method.
 * A subclass declares its `@Post()` handler; Nest registers a class's own handlers before the inherited
 * ones, so the catch-all below never shadows it. Route paths are set per module instance (see
 * withEndpointRoute), so neither this class nor its subclasses carry one.
 */
export abstract class OAuthEndpointController {
  private readonly preflightHeaders: Record<string, string>;
  private readonly usage: string;

  /** `purpose` completes "Use POST to …" in the 405 answer, e.g. `revoke a token`. */
  protected constructor(cors: OAuthCorsOptions, purpose: string) {
    this.preflightHeaders = preflightHeaders(cors, ALLOW);
    this.usage = `Use POST to ${purpose}.`;
  }

  /** CORS preflight; the allow-origin header is set by the endpoint middleware. */
  @Options()
  @HttpCode(204)
  preflight(@Res({ passthrough: true }) res: Response): void {
    res.set(this.preflightHeaders);
  }

  @All()
  notAllowed(): never {
    throw OAuthException.invalidRequest(this.usage, 405, { Allow: ALLOW });
  }
}
