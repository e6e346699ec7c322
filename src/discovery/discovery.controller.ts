import { All, Controller, Inject, Next, Param, Req, Res } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { MATRIX_AUTH_METADATA_ROUTE, METADATA_ROUTES, OPENID_CONFIGURATION_WELL_KNOWN } from './discovery.constants';
import type { ResolvedDiscoveryOptions } from './discovery-module-options.interface';
import { DISCOVERY_OPTIONS } from './discovery.module-definition';
import { DiscoveryDocumentService } from './discovery-document.service';
import { isNotModified } from './metadata-response';

const ANSWERED_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Serves the authorization server metadata (RFC 8414 §3) from memory: GET and HEAD, conditional
 * requests, and CORS preflights. A route that is switched off, a well-known path of another issuer,
 * or another method falls through to the next route (usually Nest's 404).
 */
@Controller()
export class DiscoveryController {
  constructor(
    protected readonly documents: DiscoveryDocumentService,
    @Inject(DISCOVERY_OPTIONS) protected readonly options: ResolvedDiscoveryOptions,
  ) {}

  // @All, not @Get and @Options: one handler per route; answer() passes other methods on (404).
  @All(METADATA_ROUTES)
  metadata(@Param('issuerPath') issuerPath: string[] | undefined, @Req() req: Request, @Res() res: Response, @Next() next: NextFunction): void {
    this.answer(this.documents.isIssuerPath(issuerPath), req, res, next);
  }

  // Under the issuer's path, like the issuer's other routes (OpenID Connect Discovery 1.0 §4.1).
  @All(OPENID_CONFIGURATION_WELL_KNOWN)
  openidConfiguration(@Req() req: Request, @Res() res: Response, @Next() next: NextFunction): void {
    this.answer(this.options.openidConfigurationAlias, req, res, next);
  }

  @All(MATRIX_AUTH_METADATA_ROUTE)
  matrixAuthMetadata(@Req() req: Request, @Res() res: Response, @Next() next: NextFunction): void {
    this.answer(this.options.matrixAuthMetadataAlias, req, res, next);
  }

  protected answer(served: boolean, req: Request, res: Response, next: NextFunction): void {
    if (!served || !ANSWERED_METHODS.has(req.method)) return next();
    const prepared = this.documents.response;
    // Node's own setHeader: Express's res.set() would append "; charset=utf-8" to the JSON type.
    const send = (status: number, headers: Readonly<Record<string, string>>, body?: Buffer) => {
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      res.status(status).end(body);
    };
    if (req.method === 'OPTIONS') return send(204, prepared.preflight);
    if (isNotModified(req.headers['if-none-match'], prepared.etag)) return send(304, prepared.notModified);
    // For HEAD, Node sends the headers (Content-Length included) and drops the body.
    send(200, prepared.ok, prepared.body);
  }
}
