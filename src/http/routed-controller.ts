import { Controller, Type } from '@nestjs/common';
import { bufferOAuthBody } from './request-body';

/**
 * A subclass of `base` that carries the route `path`: a module instance gets the path of its options while
 * the base class stays untouched (and stays usable by a host under a route of its own).
 */
export function routedController<T>(base: Type<T>, path: string): Type<T> {
  @Controller(path)
  class RoutedController extends (base as Type<object>) {}
  Object.defineProperty(RoutedController, 'name', { value: `Routed${base.name}` });
  return RoutedController as Type<T>;
}

/** Reads an HTML form's body with the same code as the OAuth endpoints' (16 KiB, each field once). */
export function formBodyMiddleware(req: Parameters<typeof bufferOAuthBody>[0], _res: unknown, next: () => void): void {
  bufferOAuthBody(req, next);
}
