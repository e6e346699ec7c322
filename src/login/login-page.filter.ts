import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { isDatabaseUnavailable } from '../database/database-unavailable';
import { OAuthException } from '../http/oauth.exception';
import { pageHeaders, renderPage } from './login-pages';

/**
 * Scoped to the login pages: every error is an HTML page with the pages' security headers, telling the
 * person what to do and nothing of the server's internals (no stack, no SQL, no exception text).
 */
@Catch()
export class LoginPageExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Login');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) return;
    let status = 500;
    let view = { heading: 'Something went wrong', message: 'The server could not finish signing you in. Go back to the app and try again.' };
    if (exception instanceof OAuthException || (exception instanceof HttpException && exception.getStatus() < 500)) {
      status = exception.getStatus();
      view = { heading: 'The form could not be read', message: 'Go back, reload the page and try again.' };
    } else if (isDatabaseUnavailable(exception)) {
      status = 503;
      res.setHeader('Retry-After', '5');
      view = { heading: 'Temporarily unavailable', message: 'The server is busy. Wait a few seconds, then reload the page.' };
      this.logger.warn(`Database unavailable: ${(exception as Error).message}`);
    } else {
      this.logger.error(`Unexpected error on the login pages: ${(exception as Error)?.stack ?? String(exception)}`);
    }
    res.set(pageHeaders());
    res.status(status).send(renderPage({ page: 'error', view }));
  }
}
