import type { INestApplication } from '@nestjs/common';
import type { Pool } from 'pg';
import { ClientsService } from '../../src/clients/clients.service';
import { UsersService } from '../../src/login/users.service';
import type { LoginModuleOptions } from '../../src/login/login-options.interface';
import { openTestPool } from './test-database';
import { uniqueId } from './test-app';
import { startStandInServer, StandInAuthorizations } from './login-standin';
import type { TestBrowser } from './browser';

export interface AuthorizationParams {
  scope?: string;
  prompt?: string;
  state?: string;
}

/** A server with the built-in login, and what the login specs do to it. */
export interface LoginHarness {
  url: string;
  app: INestApplication;
  pool: Pool;
  /** A public client registered for the code grant with a loopback redirect URI; answers its id. */
  client(metadata?: Record<string, unknown>): Promise<string>;
  /** A local user; answers { id, username, password }. */
  user(): Promise<{ id: string; username: string; password: string }>;
  /** Starts an authorization in `browser` and answers the first page it lands on. */
  authorize(browser: TestBrowser, clientId: string, params?: AuthorizationParams): ReturnType<TestBrowser['get']>;
  /** The login URL of a fresh pending authorization (without visiting it). */
  loginUrl(browser: TestBrowser, clientId: string, params?: AuthorizationParams): Promise<string>;
  redirectUri: string;
  close(): Promise<void>;
}

export const PASSWORD = 'correct horse battery staple';

export async function startLoginHarness(login: LoginModuleOptions = {}, issuer?: string): Promise<LoginHarness> {
  const s = await startStandInServer(login, issuer);
  const pool = openTestPool();
  const steps: StandInAuthorizations = s.steps;
  const redirectUri = 'http://127.0.0.1:9/cb';
  const pendingOf = (clientId: string, p: AuthorizationParams, metadata: Record<string, unknown>) =>
    steps.create({ clientId, clientMetadata: metadata, scope: (p.scope ?? 'urn:matrix:client:api:*').split(' ').filter(Boolean), prompt: (p.prompt ?? '').split(' ').filter(Boolean), redirectUri });
  const metadataOf = new Map<string, Record<string, unknown>>();
  const h: LoginHarness = {
    url: s.url,
    app: s.app,
    pool,
    redirectUri,
    async client(metadata = {}) {
      const clientId = uniqueId('app');
      await s.app.get(ClientsService).create({ clientId, authMethod: 'none' });
      metadataOf.set(clientId, metadata);
      return clientId;
    },
    async user() {
      const username = uniqueId('user');
      const u = await s.app.get(UsersService).create(username, PASSWORD);
      return { id: u.id, username, password: PASSWORD };
    },
    async loginUrl(_b, clientId, p = {}) {
      return `${s.url}/login?request=${pendingOf(clientId, p, metadataOf.get(clientId) ?? {})}`;
    },
    async authorize(b, clientId, p = {}) {
      return b.get(await h.loginUrl(b, clientId, p));
    },
    close: async () => {
      await pool.end();
      await s.close();
    },
  };
  return h;
}
