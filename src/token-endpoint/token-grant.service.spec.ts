import type { DiscoveryService } from '@nestjs/core';
import type { DataSource } from 'typeorm';
import type { AuthenticatedClient } from '../clients/authenticated-client';
import { resolveCoreOptions } from '../core/oauth-core-options';
import { OAuthException } from '../http/oauth.exception';
import { RevocationEvents } from '../core/revocation-events';
import type { InvalidationListener } from '../database/invalidation-listener';
import { generateToken } from '../grants/token-format';
import { TokenGrantService } from './token-grant.service';
import { ClientCredentialsGrantHandler } from './grants/client-credentials.grant';
import { RefreshTokenGrantHandler } from './grants/refresh-token.grant';
import type { TokensService } from '../grants/tokens.service';
import type { GrantActivity } from '../grants/grant-activity.service';

/** The decisions taken before the database is asked: which error, in which order. */
describe('TokenGrantService request decisions', () => {
  const query = jest.fn();
  const issue = jest.fn();
  const service = new TokenGrantService({} as DiscoveryService);
  service.register(new RefreshTokenGrantHandler({ query } as unknown as DataSource, resolveCoreOptions({ issuer: 'https://auth.example.com' }), new RevocationEvents({} as DataSource, { subscribe: () => () => undefined } as unknown as InvalidationListener), { touch: () => undefined } as unknown as GrantActivity));
  service.register(new ClientCredentialsGrantHandler({ issueClientCredentialsGrant: issue } as unknown as TokensService));
  const confidential: AuthenticatedClient = { clientId: 'web', method: 'client_secret_basic', confidential: true, grantTypes: ['refresh_token', 'client_credentials'] };
  const pub: AuthenticatedClient = { clientId: 'app', method: 'none', confidential: false, grantTypes: ['refresh_token', 'client_credentials'] };
  beforeEach(() => {
    query.mockReset();
    issue.mockReset();
  });

  const errorOf = async (p: Promise<unknown>): Promise<[string, number]> => {
    const err = await p.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(OAuthException);
    return [(err as OAuthException).error, (err as OAuthException).getStatus()];
  };

  it.each([
    ['no client at all', null, { grant_type: 'password' }, ['invalid_client', 401]],
    ['an unsupported grant type, before checking what the client may use', confidential, { grant_type: 'password' }, ['unsupported_grant_type', 400]],
    ['authorization_code, which this server does not serve', confidential, { grant_type: 'authorization_code' }, ['unsupported_grant_type', 400]],
    ['client_credentials for a public client, whatever it is registered for', pub, { grant_type: 'client_credentials' }, ['unauthorized_client', 400]],
    ['a grant type the client is not registered for', { ...confidential, grantTypes: ['client_credentials'] }, { grant_type: 'refresh_token', refresh_token: 'x' }, ['unauthorized_client', 400]],
    ['a malformed scope', confidential, { grant_type: 'client_credentials', scope: 'a  b' }, ['invalid_scope', 400]],
    ['a refresh without refresh_token', confidential, { grant_type: 'refresh_token' }, ['invalid_request', 400]],
    ['a refresh token that is not one of ours', confidential, { grant_type: 'refresh_token', refresh_token: generateToken('oat_') }, ['invalid_grant', 400]],
  ] as const)('refuses %s without touching the database', async (_name, client, request, expected) => {
    expect(await errorOf(service.exchange(request, client as AuthenticatedClient | null))).toEqual(expected);
    expect(query).not.toHaveBeenCalled();
    expect(issue).not.toHaveBeenCalled();
  });

  it('passes the requested scope tokens to the refresh function, deduplicated', async () => {
    query.mockResolvedValue([{ outcome: 'rotated', grant_id: 'g', client_id: 'web', subject: null, scope: 'a b' }]);
    const res = await service.exchange({ grant_type: 'refresh_token', refresh_token: generateToken('ort_'), scope: 'a b a' }, confidential);
    expect(query.mock.calls[0][1][2]).toEqual(['a', 'b']);
    expect(res).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'a b' });
  });
});
