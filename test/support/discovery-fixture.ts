import { Controller, DynamicModule, Global, HttpCode, Injectable, Module, Post, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DiscoveryModule } from '../../src/discovery/discovery.module';
import type { DiscoveryModuleOptions } from '../../src/discovery/discovery-module-options.interface';
import { issuerRouting } from '../../src/discovery/issuer-routing';
import { AuthorizationServerMetadataContributor } from '../../src/http/metadata-contributor.decorator';
import type { MetadataContext, MetadataContributor } from '../../src/http/metadata-contributor.interface';
import { resolveCoreOptions } from '../../src/core/oauth-core-options';
import { OAUTH_CORE_OPTIONS } from '../../src/core/oauth-core.module-definition';
import { resolveRevocationOptions, RevocationMetadataContributor } from '../../src/revocation/revocation.module';
import type { RevocationModuleOptions } from '../../src/revocation/revocation-options.interface';
import { REVOCATION_OPTIONS } from '../../src/revocation/revocation.constants';

/**
 * A small host app around DiscoveryModule, without a database: discovery needs only the core options'
 * issuer, and contributors from modules it does not know.
 */
export interface DiscoveryFixtureOptions {
  issuer: string;
  /** DiscoveryModule.forRoot options, or a module built some other way (forRootAsync). */
  discovery?: DiscoveryModuleOptions | DynamicModule;
  /** Feature modules of the fixture (contributors, stand-in endpoints). */
  imports?: Array<Type | DynamicModule>;
  /** Put the routes under the issuer's path, as the host app does (src/server.ts). */
  issuerRouting?: boolean;
}

export interface DiscoveryFixture {
  app: NestExpressApplication;
  url: string;
  close(): Promise<void>;
}

function coreOptionsModule(issuer: string): DynamicModule {
  @Global()
  @Module({})
  class CoreOptionsFixtureModule {}
  return {
    module: CoreOptionsFixtureModule,
    providers: [{ provide: OAUTH_CORE_OPTIONS, useValue: resolveCoreOptions({ issuer }) }],
    exports: [OAUTH_CORE_OPTIONS],
  };
}

/** Starts the fixture on a free loopback port; rejects with the startup error if it does not start. */
export async function startDiscoveryFixture(options: DiscoveryFixtureOptions): Promise<DiscoveryFixture> {
  const discovery = options.discovery && 'module' in options.discovery ? options.discovery : DiscoveryModule.forRoot(options.discovery ?? {});
  @Module({ imports: [coreOptionsModule(options.issuer), discovery, ...(options.imports ?? [])] })
  class DiscoveryFixtureAppModule {}
  const app = await NestFactory.create<NestExpressApplication>(DiscoveryFixtureAppModule, { logger: false, abortOnError: false });
  try {
    const routing = options.issuerRouting ? issuerRouting(options.issuer) : undefined;
    if (routing) app.setGlobalPrefix(routing.prefix, { exclude: routing.exclude });
    await app.listen(0, '127.0.0.1');
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

/** The revocation contributor as RevocationModule registers it, with a stand-in answering POST at its path. */
export function revocationFixtureModule(options: RevocationModuleOptions = {}): DynamicModule {
  const resolved = resolveRevocationOptions(options);
  @Module({})
  class RevocationFixtureModule {}
  return {
    module: RevocationFixtureModule,
    controllers: [standInEndpoint(resolved.path)],
    providers: [{ provide: REVOCATION_OPTIONS, useValue: resolved }, RevocationMetadataContributor],
  };
}

/**
 * A feature module with one contributor class named `name` (error messages name it) and, for each
 * path in `endpoints`, a stand-in route answering POST with 200.
 */
export function contributorModule(name: string, fields: (ctx: MetadataContext) => Record<string, unknown>, endpoints: string[] = []): DynamicModule {
  const contributor = { [name]: class implements MetadataContributor { metadata = fields } }[name];
  Injectable()(contributor);
  AuthorizationServerMetadataContributor()(contributor);
  const module = { [`${name}Module`]: class {} }[`${name}Module`];
  Module({})(module);
  return { module, controllers: endpoints.map(standInEndpoint), providers: [contributor] };
}

function standInEndpoint(path: string): Type {
  @Controller(path)
  class StandInEndpointController {
    @Post()
    @HttpCode(200)
    answer(): Record<string, never> {
      return {};
    }
  }
  return StandInEndpointController;
}
