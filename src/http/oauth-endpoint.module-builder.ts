import {
  ConfigurableModuleAsyncOptions,
  ConfigurableModuleBuilder,
  DynamicModule,
  Inject,
  Injectable,
  MiddlewareConsumer,
  ModuleMetadata,
  NestModule,
  Provider,
  RequestMethod,
  Type,
} from '@nestjs/common';
import { routedController } from './routed-controller';
import { HttpAdapterHost, ModuleRef } from '@nestjs/core';
import type { OAuthEndpointOptions, ResolvedOAuthEndpointOptions } from './oauth-endpoint-options.interface';
import { hostBodyParserErrorHandler } from './host-body-parser-errors';
import { endpointHeaders, oauthEndpointMiddleware } from './oauth-endpoint.middleware';
import type { OAuthErrorCode } from './oauth.exception';
import type { OAuthBodyKind } from './request-body';
import { AuthorizationServerMetadataContributor } from './metadata-contributor.decorator';
import type { MetadataContext, MetadataContributor } from './metadata-contributor.interface';

/** `oauth2/revoke` from `/oauth2/revoke/`: Nest joins route segments itself. */
export function normalizeEndpointPath(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}

/** What an endpoint module declares; defineOAuthEndpointModule builds the rest. */
export interface OAuthEndpointModuleSpec<O extends OAuthEndpointOptions, R extends ResolvedOAuthEndpointOptions> {
  /** Names the generated classes in messages: `Revocation` → `RevocationMetadataContributor`. */
  name: string;
  defaultPath: string;
  /** Completes "Use POST to …" in the 405 answer, e.g. `revoke a token`. */
  purpose: string;
  /** The methods the controller serves; default POST. Others answer 405, OPTIONS the CORS preflight. */
  methods?: readonly string[];
  /** What the endpoint's POST carries: an RFC 6749 form (default) or a JSON object (RFC 7591 registration). */
  body?: OAuthBodyKind;
  /** The error code of an unreadable body; default `invalid_request` (RFC 7591 registration: `invalid_client_metadata`). */
  bodyErrorCode?: OAuthErrorCode;
  /** Injection token of the resolved options (defaults filled in, computed once). */
  optionsToken: symbol;
  /** The module's own options beyond path and CORS, defaults filled in. */
  resolve?: (options: O) => Omit<R, keyof ResolvedOAuthEndpointOptions>;
  /** The endpoint's controller (an OAuthEndpointController with its `@Post()` handler, no path of its own). */
  controller: Type<object>;
  imports?: ModuleMetadata['imports'];
  providers: Provider[];
  exports?: ModuleMetadata['exports'];
  /** The endpoint's fields of the authorization server metadata (RFC 8414 §2), asked once at startup. */
  metadata(options: R, ctx: MetadataContext, moduleRef: ModuleRef): Record<string, unknown>;
}

export type OAuthEndpointAsyncOptions<O extends object> = ConfigurableModuleAsyncOptions<O, 'create'> & {
  /** The route, fixed at import time (routes are registered before async options resolve). */
  path?: string;
};

/** The static side of a built endpoint module: `forRoot` and `forRootAsync`. */
export interface OAuthEndpointModuleClass<O extends object> {
  new (...args: never[]): NestModule;
  forRoot(options?: O): DynamicModule;
  forRootAsync(options: OAuthEndpointAsyncOptions<O>): DynamicModule;
}

export interface OAuthEndpointModuleDefinition<O extends OAuthEndpointOptions, R extends ResolvedOAuthEndpointOptions> {
  /** Base class of the module: `@Module(definition.metadata) export class XModule extends definition.ModuleClass {}`. */
  ModuleClass: OAuthEndpointModuleClass<O>;
  metadata: ModuleMetadata;
  /** The provider that contributes the endpoint's metadata fields; it injects `optionsToken`. */
  MetadataContributor: Type<MetadataContributor>;
  /** The options with every default filled in. */
  resolveOptions(options?: O): R;
}

/**
 * One definition for every OAuth endpoint module of the set: `forRoot`/`forRootAsync` (Nest's
 * ConfigurableModuleBuilder), a route fixed at import time, the endpoint middleware (no-store, CORS, body)
 * on every method of the route, the preflight and 405 answers, client authentication, and the metadata
 * contributor. Each endpoint module is a short declaration of what differs.
 */
export function defineOAuthEndpointModule<O extends OAuthEndpointOptions, R extends ResolvedOAuthEndpointOptions>(
  spec: OAuthEndpointModuleSpec<O, R>,
): OAuthEndpointModuleDefinition<O, R> {
  const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN } = new ConfigurableModuleBuilder<O>().setClassMethodName('forRoot').build();
  const routeToken = Symbol(`${spec.name}Route`);

  const resolveOptions = (options: O = {} as O): R =>
    ({
      path: normalizeEndpointPath(options.path ?? spec.defaultPath),
      corsOrigins: options.corsOrigins?.length ? options.corsOrigins : ['*'],
      corsMaxAgeSeconds: options.corsMaxAgeSeconds ?? 600,
      ...spec.resolve?.(options),
    }) as R;

  /** Gives the module instance its route: a subclass of the controller carries the path, the base class stays untouched. */
  const withRoute = (module: DynamicModule, path: string): DynamicModule => {
    const routePath = normalizeEndpointPath(path);
    return { ...module, controllers: [routedController(spec.controller as Type<object>, routePath)], providers: [...(module.providers ?? []), { provide: routeToken, useValue: routePath }] };
  };

  @Injectable()
  @AuthorizationServerMetadataContributor()
  class Contributor implements MetadataContributor {
    constructor(
      @Inject(spec.optionsToken) private readonly options: R,
      private readonly moduleRef: ModuleRef,
    ) {}

    metadata(ctx: MetadataContext): Record<string, unknown> {
      return spec.metadata(this.options, ctx, this.moduleRef);
    }
  }
  Object.defineProperty(Contributor, 'name', { value: `${spec.name}MetadataContributor` });

  class EndpointModule extends ConfigurableModuleClass implements NestModule {
    constructor(
      @Inject(spec.optionsToken) private readonly options: R,
      private readonly adapterHost: HttpAdapterHost,
    ) {
      super();
    }

    static override forRoot(options: O = {} as O): DynamicModule {
      return withRoute(super.forRoot(options), resolveOptions(options).path);
    }

    static override forRootAsync(options: OAuthEndpointAsyncOptions<O>): DynamicModule {
      return withRoute(super.forRootAsync(options), resolveOptions({ path: options.path } as O).path);
    }

    configure(consumer: MiddlewareConsumer): void {
      const cors = { origins: this.options.corsOrigins, maxAgeSeconds: this.options.corsMaxAgeSeconds };
      consumer.apply(oauthEndpointMiddleware(cors, spec.purpose, spec.methods, spec.body)).forRoutes({ path: this.options.path, method: RequestMethod.ALL });
      // Installed now, after the host's body parsers and before Nest's own error handler: see hostBodyParserErrorHandler.
      const adapter = this.adapterHost?.httpAdapter;
      if (adapter?.getType() === 'express') {
        (adapter.getInstance() as { use(handler: unknown): void }).use(
          hostBodyParserErrorHandler(this.options.path, spec.body ?? 'form', spec.bodyErrorCode ?? 'invalid_request', endpointHeaders(cors)),
        );
      }
    }
  }

  const metadata: ModuleMetadata = {
    imports: spec.imports ?? [],
    providers: [
      { provide: spec.optionsToken, inject: [MODULE_OPTIONS_TOKEN, routeToken], useFactory: (options: O, path: string) => resolveOptions({ ...options, path }) },
      Contributor,
      ...spec.providers,
    ],
    exports: [spec.optionsToken, ...(spec.exports ?? [])],
  };
  return { ModuleClass: EndpointModule as unknown as OAuthEndpointModuleClass<O>, metadata, MetadataContributor: Contributor, resolveOptions };
}
