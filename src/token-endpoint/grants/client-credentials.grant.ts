import { Injectable } from '@nestjs/common';
import type { AuthenticatedClient } from '../../clients/authenticated-client';
import { TokenIssueError, TokensService } from '../../grants/tokens.service';
import { OAuthException } from '../../http/oauth.exception';
import { TokenGrantHandler } from '../token-grant-handler.decorator';
import type { GrantHandler, TokenRequest, TokenResponse } from '../token-grant-handler.interface';
import { withScope } from '../token-grant.service';

/** RFC 6749 §4.4: a confidential client acting for itself; an access token, no refresh token. */
@Injectable()
@TokenGrantHandler()
export class ClientCredentialsGrantHandler implements GrantHandler {
  readonly grantType = 'client_credentials';
  readonly confidentialOnly = true;

  constructor(private readonly tokens: TokensService) {}

  async handle(_request: TokenRequest, client: AuthenticatedClient, scope: string[] | undefined): Promise<TokenResponse> {
    const requested = scope?.join(' ');
    const issued = await this.tokens.issueClientCredentialsGrant({ clientId: client.clientId, scope: requested ?? '' }).catch((err: unknown) => {
      // Authenticated a moment ago, disabled or deleted since: the same answer as a failed authentication.
      if (err instanceof TokenIssueError) throw OAuthException.invalidClient('Client authentication failed.');
      throw err;
    });
    return withScope({ access_token: issued.access_token, token_type: 'Bearer', expires_in: issued.expires_in }, requested);
  }
}
