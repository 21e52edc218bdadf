/**
 * Mounts a group of route declarations (api/route.ts) on an Express router: the group's path
 * parameter checks, then per route the JSON body parser with the route's limit when it declares a
 * body, and the handler with the group's context. A handler reads only what its declaration
 * declares: `req.body` of a route that declares no body, or `req.query` of one that declares no
 * query, throws (a 500 naming the route), so a route cannot take input the query policy, the
 * OpenAPI document and the client do not know of.
 */
import { Router, type Request, type RequestHandler } from 'express';
import type { RouteDeclaration, RouteGroup } from './route';
import { jsonBody } from './route-input';

/** What a handler read without declaring it. */
export class UndeclaredInputError extends Error {
  constructor(route: RouteDeclaration<never>, input: 'body' | 'query') {
    super(`${route.method} ${route.path} reads req.${input} but declares no ${input} (api/route.ts)`);
    this.name = 'UndeclaredInputError';
  }
}

function refuseUndeclared(req: Request, route: RouteDeclaration<never>, input: 'body' | 'query'): void {
  Object.defineProperty(req, input, {
    configurable: true,
    get() {
      throw new UndeclaredInputError(route, input);
    },
    // Express and body parsers may set it; the handler still cannot read it.
    set() {},
  });
}

export function routerOf<Deps, Ctx>(group: RouteGroup<Deps, Ctx>, deps: Deps): Router {
  const router = Router({ mergeParams: true });
  const ctx = group.context(deps);
  for (const [name, check] of Object.entries(group.params ?? {})) router.param(name, check);
  for (const route of group.routes) {
    const parsers: RequestHandler[] = route.body && route.bodyLimit ? [jsonBody(route.bodyLimit)] : [];
    const handle: RequestHandler = (req, res) => {
      if (!route.body) refuseUndeclared(req, route, 'body');
      if (!route.query) refuseUndeclared(req, route, 'query');
      return route.handler(req, res, ctx);
    };
    const method = route.method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete';
    router[method](route.path, ...parsers, handle);
  }
  return router;
}
