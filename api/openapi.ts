/**
 * The OpenAPI 3.1 document served at GET /openapi.json. Every service route's operation is made
 * from its declaration (api/route.ts): summary, tag, query, body, headers and answers, the zod
 * schemas the route validates with turned into JSON Schema 2020-12 by zod, and its permission
 * with the roles that have it (api/access.ts). Service routes are listed twice: as `/…` and as
 * `/tenants/{tenant}/…` (which must name the caller's own tenant). The public routes (health,
 * this document, provider webhooks) are documented here. test/integration/openapi.test.ts checks
 * that each documented route exists in the Express app and that each route the app serves is
 * documented.
 */
import { z } from 'zod';
import { permissions, serviceRoutes, type Method, type Permission } from './access';
import { answer, failure, type Answer, type RouteDeclaration } from './route';
import * as s from './schemas';

/** A public route's documentation; service routes carry theirs in their declaration (api/route.ts). */
type Operation = Pick<RouteDeclaration, 'summary' | 'tag' | 'query' | 'body' | 'headers' | 'responses'>;

const webhookDoc: Operation = {
  summary: "A provider's webhook, verified by its signature scheme (docs/WEBHOOKS.md); committed to the inbox, which starts processWebhook once per event id",
  tag: 'webhooks',
  body: z.unknown(),
  responses: {
    202: answer('accepted: the ledger row is committed; the drainer starts the workflow (runId absent until then)', s.webhookAccepted),
    200: answer('a duplicate of an accepted event: the same workflow', s.webhookAccepted),
    400: failure('malformed body'),
    401: failure('signature missing, invalid or stale'),
    404: failure('unknown source'),
    413: failure('body over WEBHOOK_BODY_LIMIT_BYTES'),
    415: failure('unsupported media type'),
    403: failure('address outside the source allowlist'),
    429: failure("over the source's limit for the tenant: retry after Retry-After"),
    503: failure('no secret configured, or PostgreSQL cannot commit the row: retry after Retry-After'),
  },
};

const publicDocs: Record<string, Operation> = {
  'GET /healthz': { summary: 'Liveness', tag: 'health', responses: { 200: answer('alive', s.healthAnswer) } },
  'GET /readyz': {
    summary:
      'Readiness: PostgreSQL answers (503 if not: webhooks cannot be committed); degraded (still 200) while Temporal is unreachable or no worker polls the main task queue. Metrics are on API_METRICS_PORT, not here',
    tag: 'health',
    responses: { 200: answer('ready, or degraded: Temporal unreachable or no worker polling', s.readyAnswer), 503: answer('not ready: PostgreSQL unreachable', s.readyAnswer) },
  },
  'GET /startupz': {
    summary: 'Start-up probe: 503 until every migration is applied and Temporal answers for the namespace, then 200 for the life of the process',
    tag: 'health',
    responses: { 200: answer('started', s.startupAnswer), 503: answer('still starting: what is missing', s.startupAnswer) },
  },
  'GET /openapi.json': { summary: 'This document', tag: 'health', responses: { 200: { description: 'OpenAPI 3.1' } } },
  'POST /webhooks/:source': webhookDoc,
  'POST /webhooks/generic/:source': webhookDoc,
  'POST /tenants/:tenant/webhooks/:source': webhookDoc,
  'POST /tenants/:tenant/webhooks/generic/:source': webhookDoc,
  'POST /webhooks/google/:source': webhookDoc,
  'POST /tenants/:tenant/webhooks/google/:source': webhookDoc,
};

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

/** `/calls/:provider` → `/calls/{provider}` and its path parameter names. */
function openApiPath(path: string): { path: string; params: string[] } {
  const params: string[] = [];
  return { path: path.replace(/:(\w+)/g, (_m, name: string) => (params.push(name), `{${name}}`)), params };
}

function operation(method: Method, expressPath: string, doc: Operation, permission: Permission | null): [string, string, JsonSchema] {
  const { path, params } = openApiPath(expressPath);
  const parameters: JsonSchema[] = params.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } }));
  for (const [name, field] of Object.entries(doc.query?.shape ?? {})) {
    const optional = (field as z.ZodType).safeParse(undefined).success;
    parameters.push({ name, in: 'query', required: !optional, schema: jsonSchema(field as z.ZodType, 'input') });
  }
  for (const [name, description] of Object.entries(doc.headers ?? {})) parameters.push({ name, in: 'header', required: true, description, schema: { type: 'string' } });
  const responses: Record<string, JsonSchema> = {};
  const all: Record<number, Answer> = permission
    ? { ...doc.responses, 401: failure('no or an invalid credential'), 403: failure("the caller's role lacks this permission"), 429: failure('rate limited (Retry-After)') }
    : doc.responses;
  for (const [status, answer] of Object.entries(all)) {
    const type = answer.contentType ?? 'application/json';
    responses[status] = { description: answer.description, ...(answer.schema || answer.contentType ? { content: { [type]: answer.schema ? { schema: jsonSchema(answer.schema, 'output') } : {} } } : {}) };
  }
  const entry: JsonSchema = {
    summary: doc.summary,
    tags: [doc.tag],
    operationId: `${method.toLowerCase()}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(doc.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(doc.body, 'input') } } } } : {}),
    responses,
    ...(permission ? { security: [{ bearer: [] }, { apiKey: [] }], 'x-permission': permission, 'x-roles': [...permissions[permission]] } : { security: [] }),
  };
  return [path, method.toLowerCase(), entry];
}

let cached: JsonSchema | null = null;

export function openApiDocument(): JsonSchema {
  if (cached) return cached;
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const add = ([path, method, entry]: [string, string, JsonSchema]) => {
    paths[path] = { ...paths[path], [method]: entry };
  };
  for (const [key, doc] of Object.entries(publicDocs)) {
    const [method, path] = key.split(' ') as [Method, string];
    add(operation(method, path, doc, null));
  }
  for (const route of serviceRoutes()) {
    add(operation(route.method, route.path, route, route.permission));
    add(operation(route.method, `/tenants/:tenant${route.path}`, route, route.permission));
  }
  cached = {
    openapi: '3.1.0',
    info: {
      title: 'Switchyard',
      version: '0.1.0',
      description: 'Provider webhooks in (verified, durable), provider calls, sagas and batches out, as Temporal workflows. Roles and permissions: docs/SECURITY.md.',
    },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API key (sy_…) or a JWT' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      },
    },
    paths,
  };
  return cached;
}
