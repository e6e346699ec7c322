import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { ArgumentsHost, ExecutionContext, ForbiddenException, Inject, Injectable, Logger, RequestMethod, VersioningType } from '@nestjs/common';
import { ApplicationConfig, HttpAdapterHost } from '@nestjs/core';
import type { Request, Response } from 'express';
import { CLIENT_KEY, RequestWithClient } from '../clients/authenticated-client';
import { ClientAuthGuard } from '../clients/client-auth.guard';
import { normalizeEndpointPath } from '../http/oauth-endpoint.module-builder';
import { oauthEndpointMiddleware } from '../http/oauth-endpoint.middleware';
import { OAuthExceptionFilter, SERVER_ERROR_DESCRIPTION } from '../http/oauth-exception.filter';
import { readOAuthForm } from '../http/oauth-form';
import { oauthValidationPipe } from '../http/oauth-validation.pipe';
import { hasMediaType } from '../http/request-body';
import { REVOCATION_OPTIONS, REVOCATION_PURPOSE } from './revocation.constants';
import type { ResolvedRevocationOptions } from './revocation-options.interface';
import { RevocationController } from './revocation.controller';
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
 * `POST <prefix>/<path>` with a form body, answered ahead of Express's router and Nest's request pipeline:
 * the same pieces in the same order as RevocationController's route (endpoint middleware, ClientAuthGuard,
 * the validation pipe, RevocationService, OAuthExceptionFilter), called directly. A success never gives the
 * request and answer Express's prototypes: swapped per request (as Express's app does), they leave the
 * node:http code that handles every request on objects of changing shapes (README, Benchmarks). An error
 * answer gets them, for the filter. The body is read raw (the form rules of an app without body parsers).
 * Anything else (another method or path, a query string, another content type) is left to the app.
 */
@Injectable()
export class RevocationDirectRoute {
  private readonly logger = new Logger('RevocationDirectRoute');
  private installed = false;

  constructor(
    @Inject(REVOCATION_OPTIONS) private readonly options: ResolvedRevocationOptions,
    private readonly guard: ClientAuthGuard,
    private readonly service: RevocationService,
    private readonly adapterHost: HttpAdapterHost,
    private readonly appConfig: ApplicationConfig,
  ) {}

  /**
   * Puts the route in front of the app's Express instance on its HTTP server: call it after `app.init()`
   * (and after `setGlobalPrefix`), before `listen`. Every other request goes to the app as before.
   */
  install(): void {
    if (this.installed) throw new Error('RevocationDirectRoute.install() was called twice');
    // With URI versioning the app's route moves (e.g. /v1/oauth2/revoke); this route knows only the prefix.
    if (this.appConfig.getVersioning()?.type === VersioningType.URI) throw new Error('RevocationDirectRoute does not support URI versioning: leave it out');
    const server = this.adapterHost.httpAdapter.getHttpServer() as Server;
    const listeners = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
    if (listeners.length !== 1) throw new Error(`RevocationDirectRoute.install() expects the app's one request listener on its HTTP server, found ${listeners.length}`);
    const [app] = listeners;
    const revoke = this.handler();
    this.installed = true;
    server.removeListener('request', app);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (!revoke(req, res)) app(req, res);
    });
  }

  /**
   * The route's handler for a node:http server in front of the app (see install), under the app's global
   * prefix unless the route is excluded from it: true when it answered the request, false when the app should.
   */
  handler(): (req: IncomingMessage, res: ServerResponse) => boolean {
    const { options, guard, service } = this;
    const fullPath = '/' + [this.prefix(), options.path].filter(Boolean).join('/');
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

    /** The error answer, through Express's methods as on the app's route; a filter that fails ends the exchange. */
    const fail = (err: unknown, req: IncomingMessage, res: ServerResponse, context: ExecutionContext & ArgumentsHost): void => {
      try {
        Object.setPrototypeOf(req, express.request);
        Object.setPrototypeOf(res, express.response);
        (req as { res?: ServerResponse }).res = res;
        (res as { req?: IncomingMessage }).req = req;
        filter.catch(err, context);
      } catch (failed) {
        this.logger.error(`Could not answer a revocation request: ${(failed as Error)?.message ?? String(failed)}`);
        if (res.headersSent) res.destroy();
        else {
          res.writeHead(500, SERVER_ERROR_HEADERS);
          res.end(SERVER_ERROR);
        }
      }
    };

    const answer = async (req: IncomingMessage, res: ServerResponse, context: ExecutionContext & ArgumentsHost): Promise<void> => {
      try {
        // As Nest treats a guard that answers false: 403.
        if (!(await guard.canActivate(context))) throw new ForbiddenException();
        const body = pipe.transform(readOAuthForm(req as Request), metadata) as RevokeTokenDto;
        await service.revokeAsRequested(body.token, (req as RequestWithClient)[CLIENT_KEY] ?? null);
        // RFC 7009 §2.2: 200 with an empty body, whether or not the token existed (as the app's route answers).
        res.writeHead(200, EMPTY);
        res.end();
      } catch (err) {
        fail(err, req, res, context);
      }
    };

    const handler = RevocationController.prototype.revoke;
    return (req, res) => {
      if (req.method !== 'POST' || req.url !== fullPath || !hasMediaType(req.headers['content-type'], 'form')) return false;
      Object.defineProperty(req, 'ip', { configurable: true, enumerable: true, get: () => addressOf(req) });
      const http = { getRequest: () => req, getResponse: () => res, getNext: () => undefined };
      const context = {
        switchToHttp: () => http,
        getType: () => 'http',
        getArgs: () => [req, res],
        getArgByIndex: (i: number) => [req, res][i],
        getHandler: () => handler,
        getClass: () => RevocationController,
      } as unknown as ExecutionContext & ArgumentsHost;
      try {
        // (answer() handles its errors; should even the last resort fail, the exchange ends without an answer.)
        middleware(req, res, () => void answer(req, res, context).catch(() => res.destroy()));
      } catch (err) {
        fail(err, req, res, context);
      }
      return true;
    };
  }

  /** The app's global prefix, unless this route is excluded from it (then none). */
  private prefix(): string {
    const prefix = normalizeEndpointPath(this.appConfig.getGlobalPrefix() ?? '');
    if (!prefix) return '';
    // As Nest decides it: an exclusion's pattern matching the path, for POST or every method (ALL, or -1).
    const path = '/' + this.options.path;
    const excluded = (this.appConfig.getGlobalPrefixOptions().exclude ?? []).some(
      (route) =>
        (route.pathRegex ? route.pathRegex.test(path) : normalizeEndpointPath(route.path ?? '') === this.options.path) &&
        [RequestMethod.ALL, RequestMethod.POST, -1].includes(route.requestMethod),
    );
    return excluded ? '' : prefix;
  }
}

const EMPTY = Object.freeze({ 'Content-Length': '0' });
const SERVER_ERROR = JSON.stringify({ error: 'server_error', error_description: SERVER_ERROR_DESCRIPTION });
const SERVER_ERROR_HEADERS = Object.freeze({ 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(SERVER_ERROR)), 'Cache-Control': 'no-store' });
