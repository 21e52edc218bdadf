/**
 * One declaration per service-API route: method, path, permission, audit action, summary and tag,
 * request schemas (query, body, headers), response schemas and the handler. Everything else is
 * made from the declarations: the access table and authorization (api/access.ts), the query
 * policy (api/route-input.ts), the audit trail (api/audit-middleware.ts), the OpenAPI document
 * (api/openapi.ts), the service router (api/service-router.ts), the role table of
 * docs/SECURITY.md and the typed client's types (client/index.ts).
 *
 * A route module declares its routes with `defineRoute<Context>()` and exports them in a
 * `routeGroup`: the routes plus the context their handlers share, made once per app from its
 * dependencies (budgets, caches, metrics registered once), and the path parameters checked before
 * any of them runs. api/routes/index.ts lists the groups.
 *
 * No runtime import here leads back to api/access.ts: route modules load this while access.ts is
 * loading them.
 */
import type { NextFunction, Request, Response } from 'express';
import type { z } from 'zod';
import type { AuditAction } from '../lib/data/audit-log';
import type { Method, Permission } from './access';
import { errorAnswer } from './schemas';

/** One documented answer: its description and, for a body, its schema (JSON unless `contentType`). */
export interface Answer {
  description: string;
  schema?: z.ZodType;
  /** Default application/json. */
  contentType?: string;
}

/** Path parameters as Express gives them; a handler names the ones of its path (`Request<{ id: string }>`). */
export type RouteParams = Request['params'];

export interface RouteDeclaration<Ctx = unknown> {
  method: Method;
  /** The Express path; every service route is also served under `/tenants/:tenant`. */
  path: string;
  permission: Permission;
  /** The audit action every authenticated request to it records (api/audit-middleware.ts); none: not audited. */
  audit?: AuditAction;
  summary: string;
  /** The OpenAPI tag it is listed under. */
  tag: string;
  /** The query it takes: api/route-input.ts refuses any other parameter and any value this refuses. */
  query?: z.ZodObject;
  /** The JSON body it takes; only a route that declares one gets a body parser (and `req.body`). */
  body?: z.ZodType;
  /** The largest body it takes (express.json's `limit`, 413 above it); given with `body`. */
  bodyLimit?: string;
  /** Request headers it requires (name → description). */
  headers?: Record<string, string>;
  /** Its answers by status; each success but a 204 has a schema (or a content type). */
  responses: Record<number, Answer>;
  /** Method syntax on purpose: a handler names its own path parameters (`Request<{ id: string }>`). */
  handler(req: Request<RouteParams>, res: Response, ctx: Ctx): void | Promise<void>;
}

/**
 * `const route = defineRoute<CallContext>()`, then `export const listCalls = route({ … })`: the
 * declaration keeps its literal type, so the client can name a route's declared schemas
 * (`ResponseOf<typeof listCalls, 200>`).
 */
export function defineRoute<Ctx>() {
  return <const R extends RouteDeclaration<Ctx>>(route: R): R => route;
}

export type ParamCheck = (req: Request, res: Response, next: NextFunction, value: string) => void;

export interface RouteGroup<Deps, Ctx> {
  /** What the group's handlers share, made once per app from its dependencies. */
  context(deps: Deps): Ctx;
  /** Path parameters checked before any route of the group runs (`router.param`). */
  params?: Record<string, ParamCheck>;
  routes: ReadonlyArray<RouteDeclaration<Ctx>>;
}

export function routeGroup<Deps, Ctx>(group: RouteGroup<Deps, Ctx>): RouteGroup<Deps, Ctx> {
  return group;
}

/** The answer a route declares for `status`, parsed: what the typed client takes its types from. */
export type ResponseOf<R extends { responses: object }, Status extends number> = R['responses'] extends Record<Status, { schema: infer S extends z.ZodType }>
  ? z.output<S>
  : never;
/** The body a route declares, as a caller writes it (defaults still optional). */
export type BodyOf<R extends { body?: z.ZodType }> = R['body'] extends z.ZodType ? z.input<R['body']> : never;
/** The query a route declares, as a caller writes it. */
export type QueryOf<R extends { query?: z.ZodObject }> = R['query'] extends z.ZodObject ? z.input<R['query']> : never;

/** A documented error answer (`{error, reason, fields?}`). */
export const failure = (description: string): Answer => ({ description, schema: errorAnswer });
/** A documented answer with a body. */
export const answer = <S extends z.ZodType>(description: string, schema: S): { description: string; schema: S } => ({ description, schema });

/**
 * What a declaration lacks, as sentences naming it (empty when complete): a known permission, a
 * summary and a tag, a success answer, a schema for each success answer that has a body, a body
 * limit with a body (and none without), path parameters in the Express form. api/access.ts
 * refuses to build the table when any declaration lacks something, and test/unit/access.test.ts
 * checks each one.
 */
export function declarationProblems(route: RouteDeclaration<never>, knownPermissions: readonly string[]): string[] {
  const name = `${route.method} ${route.path}`;
  const problems: string[] = [];
  if (!knownPermissions.includes(route.permission)) problems.push(`${name}: permission "${String(route.permission)}" is not in api/access.ts`);
  if (!route.summary?.trim()) problems.push(`${name}: no summary`);
  if (!route.tag?.trim()) problems.push(`${name}: no tag`);
  if (!route.path.startsWith('/') || route.path.startsWith('/tenants/')) problems.push(`${name}: the path starts with / and not with /tenants/ (every route is served under it anyway)`);
  const successes = Object.keys(route.responses ?? {}).map(Number).filter((status) => status >= 200 && status < 300);
  if (successes.length === 0) problems.push(`${name}: no success answer`);
  for (const status of successes) {
    const declared = route.responses[status]!;
    if (status !== 204 && !declared.schema && !declared.contentType) problems.push(`${name}: the ${status} answer has no schema`);
  }
  if (route.body && !route.bodyLimit) problems.push(`${name}: a body without a bodyLimit`);
  if (!route.body && route.bodyLimit) problems.push(`${name}: a bodyLimit without a body schema`);
  if (typeof route.handler !== 'function') problems.push(`${name}: no handler`);
  return problems;
}
