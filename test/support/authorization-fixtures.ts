import { createHash, randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import type request from 'supertest';
import { ClientsService, CreatedClient } from '../../src/clients/clients.service';
import type { TokenEndpointAuthMethod } from '../../src/clients/client.entity';
import { uniqueId } from './test-app';

type Http = ReturnType<typeof request>;

export const REDIRECT = 'https://app.example.com/callback';

/** A PKCE pair (RFC 7636): a fresh verifier and its S256 challenge. */
export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** A client of the code grant with the given redirect URIs. */
export function codeClient(app: INestApplication, method: TokenEndpointAuthMethod = 'none', redirectUris = [REDIRECT]): Promise<CreatedClient> {
  const grantTypes = method === 'none' ? (['authorization_code', 'refresh_token'] as const) : (['authorization_code', 'refresh_token', 'client_credentials'] as const);
  return app.get(ClientsService).create({ clientId: uniqueId('app'), authMethod: method, grantTypes: [...grantTypes], redirectUris });
}

/** The parameters of a valid authorization request for `client`, with overrides (undefined removes one). */
export function authorizationParams(client: CreatedClient, challenge: string, overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const all: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: client.redirect_uris?.[0] ?? REDIRECT,
    scope: 'openid urn:matrix:client:api:*',
    state: 'st-' + randomBytes(4).toString('hex'),
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...overrides,
  };
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as Record<string, string>;
}

/** GET /oauth2/authorize with these parameters, not following redirects. */
export function authorize(http: Http, params: Record<string, string>, path = '/oauth2/authorize'): request.Test {
  return http.get(`${path}?${new URLSearchParams(params).toString()}`).redirects(0);
}

/** The parameters of a redirect back to the client: from the query, or from the fragment. */
export function responseParams(location: string, mode: 'query' | 'fragment' = 'query'): Record<string, string> {
  const url = new URL(location);
  return Object.fromEntries(mode === 'query' ? url.searchParams : new URLSearchParams(url.hash.slice(1)));
}

/** The pending request id the authorization endpoint handed to the login step. */
export function pendingId(location: string): string {
  return new URL(location).searchParams.get('request')!;
}
