import { Controller, Get, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { sendErrorPage } from '../http/html-page';
import { OAuthEndpointController } from '../http/oauth-endpoint.controller';
import { readOAuthForm } from '../http/oauth-form';
import { AuthorizationAnswer, AuthorizationService } from './authorization.service';

/**
 * `GET <path>` and `POST <path>` (RFC 6749 §3.1: both must be supported; POST as a form). HTTP only:
 * the decision is the service's. Answers are a redirect (302) or an HTML page, never JSON: a browser is
 * on the other end.
 */
@Controller()
export class AuthorizationController extends OAuthEndpointController {
  constructor(private readonly authorization: AuthorizationService) {
    super();
  }

  @Get()
  async authorizeByQuery(@Req() req: Request, @Res() res: Response): Promise<void> {
    const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '';
    this.send(res, await this.authorization.authorize(collect(new URLSearchParams(query))));
  }

  @Post()
  async authorizeByForm(@Req() req: Request, @Res() res: Response): Promise<void> {
    let form: Readonly<Record<string, string>>;
    try {
      form = readOAuthForm(req);
    } catch {
      // Not even the client is known yet: nothing can be redirected.
      return sendErrorPage(res, 400, 'Invalid request', 'The authorization request must be a form with each parameter once.');
    }
    this.send(res, await this.authorization.authorize(new Map(Object.entries(form).map(([k, v]) => [k, [v]]))));
  }

  private send(res: Response, answer: AuthorizationAnswer): void {
    if (answer.kind === 'redirect') {
      res.status(302).setHeader('Location', answer.location);
      res.end();
    } else {
      sendErrorPage(res, answer.status, 'This sign-in request cannot be completed', answer.message);
    }
  }
}

/** Every value of every parameter; empty values count as absent (RFC 6749 §3.1). */
function collect(params: URLSearchParams): Map<string, string[]> {
  const all = new Map<string, string[]>();
  for (const [name, value] of params) {
    if (value === '') continue;
    all.set(name, [...(all.get(name) ?? []), value]);
  }
  return all;
}
