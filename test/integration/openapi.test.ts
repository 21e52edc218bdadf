/**
 * GET /openapi.json against the running app: OpenAPI 3.1, every route the Express app serves is
 * documented and every documented route is served, each service route's operation is its
 * declaration (permission, summary, query, body, answers), and real answers match their
 * documented response schemas.
 */
import type { Pool } from 'pg';
import { permissionFor, serviceRoutes } from '../../api/access';
import * as schemas from '../../api/schemas';
import { expressRoutes } from '../support/express-routes';
import { startApi, testConfig, testPool, type RunningApi } from '../support/harness';

let pool: Pool;
let api: RunningApi;
interface DocOperation {
  'x-permission'?: string;
  summary: string;
  tags: string[];
  security: unknown[];
  parameters?: Array<{ name: string; in: string }>;
  requestBody?: unknown;
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}
let doc: { openapi: string; paths: Record<string, Record<string, DocOperation>> };

beforeAll(async () => {
  pool = testPool();
  api = await startApi(testConfig(), pool);
  const res = await fetch(`${api.url}/openapi.json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as typeof doc;
});

afterAll(async () => {
  await api?.close();
  await pool?.end();
});

test('an OpenAPI 3.1 document whose routes are exactly the served ones', () => {
  expect(doc.openapi).toBe('3.1.0');
  const documented = Object.entries(doc.paths)
    .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
  const served = expressRoutes(api.app).map((route) => route.replace(/:(\w+)/g, '{$1}'));
  expect(served.length).toBeGreaterThan(50);
  expect(served.filter((route) => !documented.includes(route))).toEqual([]);
  expect(documented.filter((route) => !served.includes(route))).toEqual([]);
});

test('each service route documents its permission and credentials; public ones need none', () => {
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const permission = permissionFor(method.toUpperCase(), path.replace(/\{(\w+)\}/g, 'x'));
      expect([method, path, op['x-permission']]).toEqual([method, path, permission]);
      expect([method, path, op.security.length > 0]).toEqual([method, path, permission !== undefined]);
      if (permission) expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '403', '429']));
    }
  }
});

test("each service route's operation, under / and /tenants/{tenant}/, is made from its declaration", () => {
  for (const route of serviceRoutes()) {
    const openApiPath = route.path.replace(/:(\w+)/g, '{$1}');
    for (const path of [openApiPath, `/tenants/{tenant}${openApiPath}`]) {
      const op = doc.paths[path]?.[route.method.toLowerCase()];
      const name = `${route.method} ${path}`;
      expect([name, op?.summary, op?.tags, op?.['x-permission']]).toEqual([name, route.summary, [route.tag], route.permission]);
      const query = (op?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
      expect([name, query]).toEqual([name, Object.keys(route.query?.shape ?? {})]);
      expect([name, op?.requestBody !== undefined]).toEqual([name, route.body !== undefined]);
      for (const [status, answer] of Object.entries(route.responses)) {
        const documented = op?.responses[status];
        expect([name, status, documented !== undefined]).toEqual([name, status, true]);
        if (answer.schema) expect([name, status, Object.values(documented?.content ?? {})[0]?.schema !== undefined]).toEqual([name, status, true]);
      }
    }
  }
});

test('real answers match their documented schemas', async () => {
  const created = await api.fetch('/subscribers', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: 'http://127.0.0.1:9/hook' }) });
  expect(created.status).toBe(201);
  schemas.subscriberCreated.parse(await created.json());
  schemas.subscriberList.parse(await (await api.fetch('/subscribers')).json());
  schemas.apiKeyList.parse(await (await api.fetch('/api-keys')).json());
  schemas.eventList.parse(await (await api.fetch('/webhooks/events')).json());
  schemas.healthAnswer.parse(await (await fetch(`${api.url}/healthz`)).json());
  const invalid = await api.fetch('/subscribers', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"url":"ftp://x"}' });
  expect(invalid.status).toBe(400);
  expect(schemas.errorAnswer.parse(await invalid.json()).fields).toHaveProperty('url');
});
