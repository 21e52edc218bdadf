/**
 * The route declarations (api/route.ts, api/routes/) are complete, and what is made from them
 * holds: the role table of docs/SECURITY.md is the one generated from them and api/access.ts, a
 * declaration that lacks its permission, summary, success answer schemas or body limit is named,
 * and a handler cannot read a body or query its declaration does not declare.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { z } from 'zod';
import { declaredRoute, permissions, roleTable, serviceRoutes } from '../../api/access';
import { answer, declarationProblems, defineRoute, failure, routeGroup, type RouteDeclaration } from '../../api/route';
import { routerOf } from '../../api/service-router';
import { roles } from '../../lib/security/api-keys';
import { securityDoc, withRoleTable } from '../../scripts/role-table';

const known = Object.keys(permissions);

test('docs/SECURITY.md role table = the one generated from the declarations (scripts/role-table.ts writes it)', () => {
  const doc = readFileSync(securityDoc, 'utf8');
  expect(withRoleTable(doc)).toBe(doc);
  // Each permission is a row, with its declared routes and the roles that have it.
  const table = roleTable();
  for (const [permission, allowed] of Object.entries(permissions)) {
    const row = table.split('\n').find((line) => line.startsWith(`| \`${permission}\` |`))!;
    for (const route of serviceRoutes().filter((r) => r.permission === permission)) expect(row).toContain(`\`${route.method} ${route.path}\``);
    expect(row.split('|').slice(3, -1).map((cell) => cell.trim() === '✓')).toEqual(roles.map((role) => (allowed as readonly string[]).includes(role)));
  }
});

test('every service route is one complete declaration, each method and path once', () => {
  const routes = serviceRoutes();
  expect(routes.length).toBeGreaterThanOrEqual(40);
  expect(routes.flatMap((route) => declarationProblems(route, known))).toEqual([]);
  expect(new Set(routes.map((r) => `${r.method} ${r.path}`)).size).toBe(routes.length);
  for (const route of routes) {
    const concrete = route.path.replace(/:(\w+)/g, 'x');
    expect(declaredRoute(route.method, concrete)?.path).toBe(route.path);
    expect(declaredRoute(route.method, `/tenants/t1${concrete}`)?.path).toBe(route.path);
  }
});

describe('a declaration that lacks something is named', () => {
  const complete: RouteDeclaration = {
    method: 'POST',
    path: '/things/:id',
    permission: 'work:start',
    summary: 'Make a thing',
    tag: 'things',
    body: z.object({ name: z.string() }),
    bodyLimit: '4kb',
    responses: { 201: answer('made', z.object({ id: z.string() })), 400: failure('invalid') },
    handler: () => undefined,
  };
  const problems = (change: Partial<Record<keyof RouteDeclaration, unknown>>) =>
    declarationProblems({ ...complete, ...change } as RouteDeclaration, known).map((p) => p.replace('POST /things/:id: ', ''));

  test('complete: nothing', () => expect(problems({})).toEqual([]));
  test.each([
    ['no permission', { permission: undefined }, 'permission "undefined" is not in api/access.ts'],
    ['an unknown permission', { permission: 'things:make' }, 'permission "things:make" is not in api/access.ts'],
    ['no summary', { summary: ' ' }, 'no summary'],
    ['no tag', { tag: undefined }, 'no tag'],
    ['no success answer', { responses: { 400: failure('invalid') } }, 'no success answer'],
    ['a success answer without a schema', { responses: { 201: { description: 'made' } } }, 'the 201 answer has no schema'],
    ['a body without a limit', { bodyLimit: undefined }, 'a body without a bodyLimit'],
    ['a body limit without a body schema', { body: undefined }, 'a bodyLimit without a body schema'],
    ['a path under /tenants/', { path: '/tenants/:tenant/things' }, 'the path starts with / and not with /tenants/ (every route is served under it anyway)'],
  ])('%s', (_name, change, problem) => {
    expect(problems(change)).toContainEqual(expect.stringContaining(problem));
  });
  test('a 204 needs no schema', () => expect(problems({ method: 'POST', responses: { 204: { description: 'done' } } })).toEqual([]));
});

test('a handler that reads a body or query its declaration does not declare answers 500 naming the route', async () => {
  const route = defineRoute<undefined>();
  const group = routeGroup({
    context: () => undefined,
    routes: [
      route({ method: 'POST', path: '/declared', permission: 'work:start', summary: 's', tag: 't', body: z.object({ a: z.number() }), bodyLimit: '1kb', query: z.object({ q: z.string().optional() }), responses: { 200: answer('ok', z.unknown()) }, handler: (req, res) => void res.json({ body: req.body as unknown, query: req.query }) }),
      route({ method: 'POST', path: '/reads-body', permission: 'work:start', summary: 's', tag: 't', responses: { 200: answer('ok', z.unknown()) }, handler: (req, res) => void res.json({ body: req.body as unknown }) }),
      route({ method: 'GET', path: '/reads-query', permission: 'work:read', summary: 's', tag: 't', responses: { 200: answer('ok', z.unknown()) }, handler: (req, res) => void res.json({ query: req.query }) }),
    ],
  });
  const app = express();
  app.use(routerOf(group, {}));
  const errors: string[] = [];
  app.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    errors.push(err.message);
    res.status(500).end();
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const post = (path: string) => fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
  try {
    const declared = await post('/declared?q=1');
    expect([declared.status, await declared.json()]).toEqual([200, { body: { a: 1 }, query: { q: '1' } }]);
    expect((await post('/reads-body')).status).toBe(500);
    expect((await fetch(`${base}/reads-query?q=1`)).status).toBe(500);
    expect(errors).toEqual(['POST /reads-body reads req.body but declares no body (api/route.ts)', 'GET /reads-query reads req.query but declares no query (api/route.ts)']);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
