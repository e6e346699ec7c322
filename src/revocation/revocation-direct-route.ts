import type { IncomingMessage, ServerResponse } from 'node:http';
import { ArgumentsHost, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Request, Response } from 'express';
import { CLIENT_KEY, RequestWithClient } from '../clients/authenticated-client';
import { ClientAuthGuard } from '../clients/client-auth.guard';
import { oauthEndpointMiddleware } from '../http/oauth-endpoint.middleware';
import { OAuthExceptionFilter } from '../http/oauth-exception.filter';
import { readOAuthForm } from '../http/oauth-form';
import { oauthValidationPipe } from '../http/oauth-validation.pipe';
import { hasMediaType } from '../http/request-body';
import { REVOCATION_OPTIONS, REVOCATION_PURPOSE } from './revocation.constants';
import type { ResolvedRevocationOptions } from './revocation-options.interface';
import { RevocationService } from './revocation.service';
import { RevokeTokenDto } from './revoke-token.dto';

/** Express's application as far as a direct route uses it. */
interface ExpressApp {
  /** The prototype Express gives requests (its getters read `this.app`). */
  request: object;
  /** The prototype Express gives answers. */
  response: object;
}

/**
 * `POST <prefix>/<path>` with a form body, answered without Express's router and Nest's request pipeline:
 * the same pieces in the same order as RevocationController's route (endpoint middleware, ClientAuthGuard,
 * the validation pipe, RevocationService, OAuthExceptionFilter), called directly. A success never gives the
 * request and answer Express's prototypes: Express swaps them on every request, which leaves the node:http
 * code that handles every later request on objects of changing shapes, and cost the revoke path more CPU
 * than the rest of the request together (see README, Benchmarks). An error answer gets them, for the filter.
 * Anything else (another method or path, a query string, another content type) is left to the app.
 */
@Injectable()
export class RevocationDirectRoute {
  constructor(
    @Inject(REVOCATION_OPTIONS) private readonly options: ResolvedRevocationOptions,
    private readonly guard: ClientAuthGuard,
    private readonly service: RevocationService,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  /**
   * The route's handler for a plain node:http server in front of the app, or first middleware of its
   * Express instance, under the app's global prefix (none by default): true when it answered the request,
   * false when the app should.
   */
  handler(prefix?: string): (req: IncomingMessage, res: ServerResponse) => boolean {
    const { options, guard, service } = this;
    const fullPath = '/' + (prefix ? `${prefix}/` : '') + options.path;
    const adapter = this.adapterHost.httpAdapter;
    if (adapter.getType() !== 'express') throw new Error(`RevocationDirectRoute needs Nest's Express adapter, not ${adapter.getType()}`);
    const express = adapter.getInstance() as ExpressApp;
    const filter = new OAuthExceptionFilter();
    const pipe = oauthValidationPipe();
    const metadata = { type: 'custom' as const, metatype: RevokeTokenDto };
    const middleware = oauthEndpointMiddleware({ origins: options.corsOrigins, maxAgeSeconds: options.corsMaxAgeSeconds }, REVOCATION_PURPOSE) as unknown as (
      req: IncomingMessage,
      res: ServerResponse,
      next: () => void,
    ) => void;

    /** The client's address as Express tells it (`req.ip`, under the app's `trust proxy`), read when the guard asks. */
    const addressOf = (req: IncomingMessage): string | undefined =>
      Reflect.get(express.request, 'ip', Object.create(express.request, { headers: { value: req.headers }, socket: { value: req.socket }, connection: { value: req.socket } })) as
        | string
        | undefined;

    const answer = async (req: IncomingMessage, res: ServerResponse, context: ExecutionContext & ArgumentsHost): Promise<void> => {
      try {
        await guard.canActivate(context);
        const body = pipe.transform(readOAuthForm(req as Request), metadata) as RevokeTokenDto;
        await service.revokeAsRequested(body.token, (req as RequestWithClient)[CLIENT_KEY] ?? null);
        // RFC 7009 §2.2: 200 with an empty body, whether or not the token existed (as the app's route answers).
        res.writeHead(200, EMPTY);
        res.end();
      } catch (err) {
        // The filter answers through Express's methods, as on the app's route.
        Object.setPrototypeOf(req, express.request);
        Object.setPrototypeOf(res, express.response);
        (req as { res?: ServerResponse }).res = res;
        (res as { req?: IncomingMessage }).req = req;
        filter.catch(err, context);
      }
    };

    return (req, res) => {
      if (req.method !== 'POST' || req.url !== fullPath || !hasMediaType(req.headers['content-type'], 'form')) return false;
      Object.defineProperty(req, 'ip', { configurable: true, enumerable: true, get: () => addressOf(req) });
      const http = { getRequest: () => req, getResponse: () => res, getNext: () => undefined };
      const context = { switchToHttp: () => http, getType: () => 'http', getArgs: () => [req, res], getArgByIndex: (i: number) => [req, res][i] } as unknown as ExecutionContext &
        ArgumentsHost;
      middleware(req, res, () => void answer(req, res, context));
      return true;
    };
  }
}

const EMPTY = Object.freeze({ 'Content-Length': '0' });
