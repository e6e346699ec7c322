// The peer's oidc-provider configuration, shared by its server and its seeder.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';
import { PgAdapter } from './pg-adapter.mjs';

export const PEER_CLIENT_ID = 'bench';

/**
 * A provider with revocation and introspection on, a PostgreSQL adapter, and one confidential client
 * (client_secret_basic) that holds refresh tokens. The client is static configuration, as most deployments
 * of oidc-provider have it: it is not read from the database per request.
 */
export function createProvider(issuer, clientSecret) {
  const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const provider = new Provider(issuer, {
    adapter: PgAdapter,
    clients: [
      {
        client_id: PEER_CLIENT_ID,
        client_secret: clientSecret,
        token_endpoint_auth_method: 'client_secret_basic',
        // Only what this bench's tokens need: revoking a refresh token then clears the grant's access and
        // refresh tokens and the grant, and nothing else (no authorization codes to look for).
        grant_types: ['refresh_token'],
        response_types: [],
        redirect_uris: [],
      },
    ],
    features: {
      revocation: { enabled: true },
      introspection: { enabled: true },
      devInteractions: { enabled: false },
    },
    jwks: { keys: [{ ...signingKey, kid: 'bench', use: 'sig', alg: 'RS256' }] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    ttl: { AccessToken: 86_400, RefreshToken: 30 * 86_400, Grant: 30 * 86_400 },
  });
  provider.proxy = false;
  return provider;
}
