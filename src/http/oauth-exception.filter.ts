import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { isDatabaseUnavailable } from '../database/database-unavailable';
import { OAuthException } from './oauth.exception';

/** Seconds a client is asked to wait when the database is unavailable. */
export const RETRY_AFTER_SECONDS = 5;

/** The one description of an unexpected failure on an OAuth endpoint (RFC 6749 §5.2 server_error). */
export const SERVER_ERROR_DESCRIPTION = 'The authorization server met an unexpected condition.';

/**
 * Scoped to the OAuth endpoints (`@UseFilters`): every error leaves as an RFC 6749 §5.2 body, never
 * Nest's `{statusCode, message}` and never a stack trace. The host app's own routes keep their format.
 */
@Catch()
export class OAuthExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('OAuth');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const error = this.toOAuth(exception);
    if (res.headersSent) return;
    for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
    res.status(error.getStatus()).json({ error: error.error, error_description: error.description });
  }

  private toOAuth(exception: unknown): OAuthException {
    if (exception instanceof OAuthException) return exception;
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status === 413) return OAuthException.invalidRequest('The request body is too large.', 413);
      if (status < 500) return OAuthException.invalidRequest(plainMessage(exception), status);
    }
    if (isDatabaseUnavailable(exception)) {
      this.logger.warn(`Database unavailable: ${(exception as Error).message}`);
      return OAuthException.temporarilyUnavailable(RETRY_AFTER_SECONDS);
    }
    this.logger.error(`Unexpected error on an OAuth endpoint: ${(exception as Error)?.stack ?? String(exception)}`);
    return new OAuthException('server_error', SERVER_ERROR_DESCRIPTION, 500);
  }
}

function plainMessage(exception: HttpException): string {
  const body = exception.getResponse();
  const message = typeof body === 'object' && body !== null ? (body as { message?: unknown }).message : body;
  return Array.isArray(message) ? message.join('; ') : String(message ?? exception.message);
}
