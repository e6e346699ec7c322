import { Controller, DynamicModule, MiddlewareConsumer, RequestMethod, Type } from '@nestjs/common';
import { normalizeEndpointPath, ResolvedOAuthEndpointOptions, corsOf } from './oauth-endpoint-options.interface';
import { oauthEndpointMiddleware } from './oauth-endpoint.middleware';

/**
 * Gives an endpoint module instance its route. Routes are fixed when Nest scans controllers, before async
 * options resolve, so the path is taken at import time: a subclass of the controller carries it, leaving
 * the base class untouched, and the path is provided under `routeToken` for the module's options.
 */
export function withEndpointRoute(module: DynamicModule, controller: Type<object>, routeToken: symbol, path: string): DynamicModule {
  const routePath = normalizeEndpointPath(path);
  @Controller(routePath)
  class RoutedController extends controller {}
  Object.defineProperty(RoutedController, 'name', { value: `Routed${controller.name}` });
  return {
    ...module,
    controllers: [RoutedController],
    providers: [...(module.providers ?? []), { provide: routeToken, useValue: routePath }],
  };
}

/** The endpoint middleware (no-store, CORS, body) on every method of the endpoint's route. */
export function applyOAuthEndpointMiddleware(consumer: MiddlewareConsumer, options: ResolvedOAuthEndpointOptions): void {
  consumer.apply(oauthEndpointMiddleware(corsOf(options))).forRoutes({ path: options.path, method: RequestMethod.ALL });
}
