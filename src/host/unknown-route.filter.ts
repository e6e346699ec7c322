import { ArgumentsHost, Catch, NotFoundException } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { Request, Response } from 'express';

/**
 * Nest answers a route it does not know with `Cannot GET /x?token=…`: the URL, query included, echoed back
 * (and into any log of answers). Such a 404 gets a fixed message instead; every other NotFoundException keeps
 * Nest's handling.
 */
@Catch(NotFoundException)
export class UnknownRouteFilter extends BaseExceptionFilter {
  override catch(exception: NotFoundException, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<Request>();
    if (exception.message !== `Cannot ${req.method} ${req.originalUrl ?? req.url}`) return super.catch(exception, host);
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) return;
    res.status(404).json({ statusCode: 404, error: 'Not Found', message: 'There is no route for this method and path.' });
  }
}
