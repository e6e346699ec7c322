import type { INestApplication } from '@nestjs/common';
import type { Pool } from 'pg';
import { ClientsService } from '../../src/clients/clients.service';
import { UsersService } from '../../src/login/users.service';
import { pkce } from './authorization-fixtures';
import type { TestBrowser } from './browser';
import { startTestServer, TestServer, uniqueId } from './test-app';

export interface AuthorizationParams {
  scope?: string;
  prompt?: string;
  state?: string;
}

/** The standalone server with its built-in login, and what the login specs do to it. */
export interface LoginHarness {
  url: string;
  app: INestApplication;
  pool: Pool;
  server: TestServer;
  redirectUri: string;
  /** A public client of the code grant; `metadata` as registered (client_name, client_uri, logo_uri, …). */
  client(metadata?: Record<string, unknown>): Promise<string>;
  /** A local user with the password PASSWORD. */
  user(): Promise<{ id: string; username: string; password: string }>;
  /** Starts an authorization at the authorization endpoint in `browser`; answers the page it lands on. */
  authorize(browser: TestBrowser, clientId: string, params?: AuthorizationParams): ReturnType<TestBrowser['get']>;
  /** The authorization endpoint URL of a new request (PKCE S256). */
  authorizationUrl(clientId: string, params?: AuthorizationParams): string;
  /** The login URL of a new pending authorization, without visiting it. */
  loginUrl(browser: TestBrowser, clientId: string, params?: AuthorizationParams): Promise<string>;
  /** The PKCE verifier of the last authorization URL made. */
  lastVerifier?: string;
  close(): Promise<void>;
}

export const PASSWORD = 'correct horse battery staple';
const REDIRECT_URI = 'https://app.example.com/callback';

/** `env`: settings of the server (LOGIN_SELF_REGISTRATION, LOGIN_FAILURES_*, ISSUER, …). */
export async function startLoginHarness(env: Record<string, string> = {}): Promise<LoginHarness> {
  const server = await startTestServer({ TRUST_PROXY: 'loopback', ...env });
  const h: LoginHarness = {
    url: server.url,
    app: server.app,
    pool: server.pool,
    server,
    redirectUri: REDIRECT_URI,
    async client(metadata = {}) {
      const clientId = uniqueId('app');
      await server.app.get(ClientsService).create({ clientId, authMethod: 'none', grantTypes: ['authorization_code', 'refresh_token'], redirectUris: [REDIRECT_URI] });
      await server.pool.query('UPDATE clients SET metadata = $2 WHERE client_id = $1', [clientId, metadata]);
      return clientId;
    },
    async user() {
      const username = uniqueId('user');
      const u = await server.app.get(UsersService).create(username, PASSWORD);
      return { id: u.id, username, password: PASSWORD };
    },
    authorizationUrl(clientId, p = {}) {
      const { verifier, challenge } = pkce();
      h.lastVerifier = verifier;
      const q = new URLSearchParams({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: REDIRECT_URI,
        scope: p.scope ?? 'urn:matrix:client:api:*',
        state: p.state ?? uniqueId('st'),
        code_challenge: challenge,
        code_challenge_method: 'S256',
      });
      if (p.prompt) q.set('prompt', p.prompt);
      return `${server.url}/oauth2/authorize?${q}`;
    },
    async loginUrl(_b, clientId, p = {}) {
      const res = await fetch(h.authorizationUrl(clientId, p), { redirect: 'manual' });
      await res.arrayBuffer();
      const location = res.headers.get('location');
      if (res.status !== 302 || !location) throw new Error(`the authorization endpoint answered ${res.status}`);
      // The issuer is http://localhost:3000 in tests; the server listens elsewhere.
      const login = new URL(location);
      return `${server.url}${login.pathname}${login.search}`;
    },
    async authorize(b, clientId, p = {}) {
      return b.get(await h.loginUrl(b, clientId, p));
    },
    close: () => server.close(),
  };
  return h;
}
