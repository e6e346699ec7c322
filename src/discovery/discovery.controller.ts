import { Controller, Get, Inject, Next, Options, Param, Req, Res } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { MATRIX_AUTH_METADATA_ROUTE, METADATA_ROUTES, OPENID_CONFIGURATION_WELL_KNOWN } from './discovery.constants';
import type { ResolvedDiscoveryOptions } from './discovery-module-options.interface';
import { DISCOVERY_OPTIONS } from './discovery.module-definition';
import { DiscoveryDocumentService } from './discovery-document.service';
import { isNotModified } from './metadata-response';

/**
 * Serves the authorization server metadata (RFC 8414 §3) from memory: GET and HEAD (Express answers
 * HEAD with the GET route), conditional requests, and CORS preflights. A route that is switched off,
 * or a well-known path of another issuer, falls through to the next route (usually Nest's 404).
 */
@Controller()
export class DiscoveryController {
  constructor(
    protected readonly documents: DiscoveryDocumentService,
    @Inject(DISCOVERY_OPTIONS) protected readonly options: ResolvedDiscoveryOptions,
  ) {}

  @Get(METADATA_ROUTES)
  metadata(@Param('issuerPath') issuerPath: string[] | undefined, @Req() req: Request, @Res() res: Response, @Next() next: NextFunction): void {
    this.answer(this.documents.isIssuerPath(issuerPath), req, res, next);
  }

  @Options(METADATA_ROUTES)
  metadataPreflight(@Param('issuerPath') issuerPath: string[] | undefined, @Req() req: Request, @Res() res: Response, @Next() next: NextFunction): void {
    this.answer(this.documents.isIssuerPath(issuerPath), req, res, next);
  }

  // Under the issuer's path, like the issuer's other routes (OpenID Connect Discovery 1.0 §4.1).
  @Get(OPENID_CONFIGURATION_WELL_KNOWN)
  openidConfiguration(@Req() req: Request, @Res() res: Response, @Next() next: NextFunction): void {
    this.answer(this.options.openidConfigurationAlias, req, res, next);
  }

  @Options(OPENID_CONFIGURATION_WELL_KNOWN)
  openidConfigurationPreflight(@Req() req: Request, @Res() res: Response, @Next() next: NextFunction): void {
    this.answer(this.options.openidConfigurationAlias, req, res, next);
  }

  @Get(MATRIX_AUTH_METADATA_ROUTE)
  matrixAuthMetadata(@Req() req: Request, @Res() res: Response, @Next() next: NextFunction): void {
    this.answer(this.options.matrixAuthMetadataAlias, req, res, next);
  }

  @Options(MATRIX_AUTH_METADATA_ROUTE)
  matrixAuthMetadataPreflight(@Req() req: Request, @Res() res: Response, @Next() next: NextFunction): void {
    this.answer(this.options.matrixAuthMetadataAlias, req, res, next);
  }

  protected answer(served: boolean, req: Request, res: Response, next: NextFunction): void {
    if (!served) return next();
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
