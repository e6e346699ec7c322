// TEMPORARY: a stand-in for AuthorizationService until src/authorization/ lands on main.
import { Global, Module, DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { TypeOrmModule } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { OAuthCoreModule } from '../../src/core/oauth-core.module';
import { RevocationModule } from '../../src/revocation/revocation.module';
import { LoginModule } from '../../src/login/login.module';
import type { LoginModuleOptions } from '../../src/login/login-options.interface';
import { AUTHORIZATION_STEPS } from '../../src/login/login.constants';
import type { PendingAuthorization } from '../../src/authorization/pending-authorization.interface';
import { OAUTH_ENTITIES } from '../../src/schema/entities';
import { testDatabaseUrl, testPoolSize } from './test-database';

export class StandInAuthorizations {
  readonly pending = new Map<string, PendingAuthorization & { done?: boolean }>();
  readonly completions: Array<{ id: string; subject: string; scope?: string[] }> = [];
  create(p: Partial<PendingAuthorization> & { clientId: string }): string {
    const id = randomUUID();
    this.pending.set(id, { id, clientMetadata: {}, scope: [], prompt: [], redirectUri: 'http://127.0.0.1:9/cb', expiresAt: new Date(Date.now() + 600000), ...p });
    return id;
  }
  async getPending(id: string) {
    const p = this.pending.get(id);
    return p && !p.done ? p : null;
  }
  async complete(id: string, c: { subject: string; scope?: string[] }) {
    const p = this.pending.get(id);
    if (!p || p.done) throw Object.assign(new Error('gone'), { name: 'AuthorizationRequestError' });
    p.done = true;
    this.completions.push({ id, ...c });
    return `${p.redirectUri}?code=standin-${id}&state=s`;
  }
  async deny(id: string, error: string) {
    const p = this.pending.get(id);
    if (!p || p.done) throw Object.assign(new Error('gone'), { name: 'AuthorizationRequestError' });
    p.done = true;
    return `${p.redirectUri}?error=${error}&state=s`;
  }
}

export async function startStandInServer(login: LoginModuleOptions = {}, issuer = 'http://localhost:3000') {
  const steps = new StandInAuthorizations();
  @Global()
  @Module({ providers: [{ provide: AUTHORIZATION_STEPS, useValue: steps }], exports: [AUTHORIZATION_STEPS] })
  class StandInModule {}
  const mod: DynamicModule = {
    module: class StandInApp {},
    imports: [
      TypeOrmModule.forRoot({ type: 'postgres', url: testDatabaseUrl(), entities: OAUTH_ENTITIES, extra: { max: testPoolSize() } }),
      OAuthCoreModule.forRoot({ issuer }),
      RevocationModule.forRoot({}),
      StandInModule,
      LoginModule.forRoot(login),
    ],
  };
  const app = await NestFactory.create<NestExpressApplication>(mod, { logger: ['error'], bodyParser: false });
  app.set('trust proxy', true);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, steps, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}
