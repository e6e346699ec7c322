import { CanActivate, ExecutionContext, HttpException, Inject, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Response } from 'express';
import { OAUTH_CORE_OPTIONS } from '../core/oauth-core.module-definition';
import type { ResolvedOAuthCoreOptions } from '../core/oauth-core-options.interface';
import { isDatabaseUnavailable } from '../database/database-unavailable';
import { TokenStateService } from '../grants/token-state.service';
import { BEARER_KEY, RequestWithBearer, REQUIRED_SCOPES } from './bearer-token';

/** Seconds a caller is asked to wait when the database is unavailable. */
const RETRY_AFTER_SECONDS = 5;

/**
 * Protects a host's own resource routes with this server's access tokens (RFC 6750). Only the
 * `Authorization: Bearer` header is accepted (§2.1); the query and form-body variants are refused
 * (§2.2, §2.3 put tokens where logs and caches see them). Refresh tokens are never accepted. Answers per
 * §3: 401 with a `WWW-Authenticate: Bearer` challenge (with `error="invalid_token"` for an unknown,
 * expired or revoked token), 403 `insufficient_scope` naming the scope a route declares with
 * `@RequireScopes()`, and 503 `temporarily_unavailable` with `Retry-After` when the database cannot be
 * reached. Members are protected so hosts can extend it.
 */
@Injectable()
export class BearerTokenGuard implements CanActivate {
  protected readonly logger = new Logger('BearerTokenGuard');
  protected readonly realm: string;

  constructor(
    protected readonly tokens: TokenStateService,
    protected readonly reflector: Reflector,
    @Inject(OAUTH_CORE_OPTIONS) core: ResolvedOAuthCoreOptions,
  ) {
    this.realm = core.issuer.replace(/["\\]/g, '');
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const req = http.getRequest<RequestWithBearer>();
    const res = http.getResponse<Response>();
    if (req.query?.access_token !== undefined || (req.body && typeof req.body === 'object' && 'access_token' in req.body)) {
      throw this.refuse(res, 400, 'invalid_request', 'Send the access token in the Authorization header (Bearer), not in the URL or the body.');
    }
    const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(req.headers.authorization ?? '');
    if (!match) {
      // RFC 6750 §3.1: a request without credentials gets the challenge without an error code.
      if (req.headers.authorization === undefined || !/^Bearer\b/i.test(req.headers.authorization)) throw this.refuse(res, 401);
      throw this.refuse(res, 401, 'invalid_token', 'The Authorization header is not a well-formed Bearer token.');
    }
    let live;
    try {
      live = await this.tokens.liveToken(match[1]);
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      this.logger.warn(`Database unavailable: ${(err as Error).message}`);
      res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
      throw new HttpException({ error: 'temporarily_unavailable', error_description: 'The token cannot be checked right now; retry later.' }, 503);
    }
    if (!live || live.kind !== 'access_token' || live.expiresAt === null) {
      throw this.refuse(res, 401, 'invalid_token', 'The access token is unknown, expired or revoked.');
    }
    const required = this.reflector.getAllAndOverride<string[] | undefined>(REQUIRED_SCOPES, [context.getHandler(), context.getClass()]) ?? [];
    const missing = required.filter((s) => !live.scope.includes(s));
    if (missing.length > 0) {
      throw this.refuse(res, 403, 'insufficient_scope', `This resource needs the scope ${required.join(' ')}.`, required.join(' '));
    }
    req[BEARER_KEY] = { subject: live.subject, clientId: live.clientId, scope: [...live.scope], grantId: live.grantId, expiresAt: live.expiresAt };
    return true;
  }

  /** RFC 6750 §3: the challenge on the response, and an error body in the OAuth shape. */
  protected refuse(res: Response, status: number, error?: string, description?: string, scope?: string): HttpException {
    const params = [`realm="${this.realm}"`];
    if (error) params.push(`error="${error}"`);
    if (description) params.push(`error_description="${description.replace(/["\\]/g, '')}"`);
    if (scope) params.push(`scope="${scope}"`);
    res.setHeader('WWW-Authenticate', `Bearer ${params.join(', ')}`);
    return new HttpException(error ? { error, error_description: description } : { error: 'invalid_token', error_description: 'An access token is required (Authorization: Bearer).' }, status);
  }
}
