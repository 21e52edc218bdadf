/**
 * The OpenAPI 3.1 document served at GET /openapi.json. Request and response schemas are the zod
 * schemas of api/schemas.ts (the ones the routes validate with), turned into JSON Schema
 * 2020-12 by zod; every service route's permission and roles come from api/access.ts. Service
 * routes are listed twice: as `/…` and as `/tenants/{tenant}/…` (which must name the caller's own
 * tenant). test/integration/openapi.test.ts checks that each documented route exists in the
 * Express app and that each route the app serves is documented.
 */
import { z } from 'zod';
import { permissions, serviceRoutes, type Method, type Permission } from './access';
import * as s from './schemas';

interface Answer {
  description: string;
  schema?: z.ZodType;
  /** Default application/json. */
  contentType?: string;
}

interface Operation {
  summary: string;
  tag: string;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Required request headers (name → description). */
  headers?: Record<string, string>;
  responses: Record<number, Answer>;
}

const error = (description: string): Answer => ({ description, schema: s.errorAnswer });
const created = (description: string, schema: z.ZodType): Answer => ({ description, schema });

/** Documentation of every service route, keyed like api/access.ts's table. */
const serviceDocs: Record<string, Operation> = {
  'GET /whoami': { summary: "The caller: tenant, role, its permissions, and where the Temporal Web UI is", tag: 'session', responses: { 200: created('the caller', s.whoamiAnswer) } },
  'POST /codec/decode': {
    summary:
      "Codec endpoint of the Temporal Web UI: decrypt the caller's tenant's workflow payloads; system and pre-owner ones need payloads:decode-system (CORS: TEMPORAL_UI_URL only)",
    tag: 'session',
    body: s.codecBody,
    headers: { 'X-Namespace': 'optional: must be the configured namespace' },
    responses: {
      200: created("the payloads in order, decrypted; unencrypted ones and those the caller may not open (another tenant's) unchanged", s.codecBody),
      400: error('malformed body, unknown key id or tampered payload (nothing decoded)'),
      503: error('payload encryption is not configured'),
    },
  },
  'POST /codec/encode': {
    summary: "Codec endpoint of the Temporal Web UI: encrypt payloads under the current key, for the caller's tenant",
    tag: 'session',
    body: s.codecBody,
    headers: { 'X-Namespace': 'optional: must be the configured namespace' },
    responses: { 200: created('the payloads, encrypted', s.codecBody), 400: error('malformed body'), 503: error('payload encryption is not configured') },
  },
  'POST /calls/:provider/:operation': {
    summary: 'Start a provider call (providerCall workflow); waits up to ?wait= ms for its result',
    tag: 'calls',
    query: s.waitQuery,
    body: s.callBody,
    headers: { 'Idempotency-Key': 'the call id within the tenant: the same key returns the same workflow and result' },
    responses: {
      200: created('completed or failed within the wait', s.callAnswer),
      202: created('still running: poll GET /calls/{workflowId}', s.callAnswer),
      400: error('missing key, invalid params (fields named)'),
      404: error('unknown provider or operation'),
      429: error('budget exhausted or rate limited'),
      503: error('Temporal unreachable: nothing started'),
    },
  },
  'GET /calls': {
    summary: "The tenant's provider calls from Temporal visibility, newest first",
    tag: 'calls',
    query: s.callsQuery,
    responses: { 200: created('calls', s.callList), 400: error('invalid filter (fields named)'), 503: error('Temporal unreachable') },
  },
  'GET /calls/:workflowId': { summary: "A call's status, candidates tried and result", tag: 'calls', responses: { 200: created('the call', s.workflowView), 404: error('no such call in this tenant') } },
  'POST /bookings': {
    summary: 'Start a booking saga: charge, calendar event, SMS and email, compensated in reverse on failure',
    tag: 'calls',
    query: s.waitQuery,
    body: s.bookingBody,
    headers: { 'Idempotency-Key': 'the booking id within the tenant' },
    responses: { 200: created('completed or failed within the wait', s.callAnswer), 202: created('still running', s.callAnswer), 400: error('invalid booking (fields named)') },
  },
  'GET /bookings/:workflowId': { summary: "A booking's steps and compensations", tag: 'calls', responses: { 200: created('the booking', s.workflowView), 404: error('no such booking in this tenant') } },
  'POST /batches/:provider/:operation': {
    summary: 'Queue one item in its durable batch (critical items are sent at once)',
    tag: 'batches',
    query: s.waitQuery,
    body: s.batchItemBody,
    responses: {
      200: created('the item result, within the wait', s.batchItemAccepted),
      202: created('accepted: the item is in the batch workflow', s.batchItemAccepted),
      400: error('invalid item (fields named)'),
      404: error('unknown provider or operation'),
      429: error('the provider is past its budget: nothing queued'),
    },
  },
  'GET /batches/items/:id': { summary: "A batch item's own status and result", tag: 'batches', responses: { 200: created('the item', s.batchItemAnswer), 404: error('no such item in this tenant') } },
  'GET /webhooks/events': {
    summary: 'Webhook events from the ledger, plus accepted ones still in flight',
    tag: 'webhook events',
    query: s.eventsQuery,
    responses: { 200: created('events, newest first', s.eventList), 400: error('invalid filter (fields named)') },
  },
  'GET /webhooks/events/:workflowId': { summary: "An event's workflow status, ledger summary and deliveries", tag: 'webhook events', responses: { 200: created('the event', s.workflowView), 404: error('no such event in this tenant') } },
  'POST /webhooks/events/:workflowId/retry': {
    summary: 'Re-run a failed event under the same id',
    tag: 'webhook events',
    responses: { 202: created('started again', s.rerunAnswer), 404: error('no such event in this tenant'), 409: error('the event did not fail') },
  },
  'GET /deliveries': { summary: 'Subscriber deliveries with attempts and last error', tag: 'subscribers', query: s.deliveriesQuery, responses: { 200: created('deliveries', s.deliveryList) } },
  'POST /deliveries/:id/replay': { summary: 'Run a delivery again (e.g. dead-lettered) under the same id', tag: 'subscribers', responses: { 202: created('started again', s.rerunAnswer), 404: error('no such delivery in this tenant') } },
  'GET /stream': {
    summary: 'Live events (Server-Sent Events) of this tenant: webhooks, deliveries, provider health, alerts',
    tag: 'monitoring',
    query: s.streamQuery,
    responses: { 200: { description: 'an event stream', contentType: 'text/event-stream' }, 400: error('unknown topic') },
  },
  'GET /subscribers': { summary: "The tenant's subscribers", tag: 'subscribers', responses: { 200: created('subscribers', s.subscriberList) } },
  'GET /subscribers/:id': { summary: 'One subscriber', tag: 'subscribers', responses: { 200: created('the subscriber', s.subscriber), 404: error('no such subscriber in this tenant') } },
  'POST /subscribers': {
    summary: 'Register a subscriber; its signing secret is in this answer only',
    tag: 'subscribers',
    body: s.subscriberBody,
    responses: { 201: created('registered', s.subscriberCreated), 400: error('invalid subscriber (fields named)') },
  },
  'PATCH /subscribers/:id': {
    summary: 'Change a subscriber (url, filters, enabled)',
    tag: 'subscribers',
    body: s.subscriberPatch,
    responses: { 200: created('changed', s.subscriber), 400: error('invalid change (fields named)'), 404: error('no such subscriber in this tenant') },
  },
  'DELETE /subscribers/:id': { summary: 'Remove a subscriber', tag: 'subscribers', responses: { 204: { description: 'removed' }, 404: error('no such subscriber in this tenant') } },
  'POST /subscribers/:id/replay': {
    summary: 'Redeliver every matching completed event since ?since=',
    tag: 'subscribers',
    query: s.sinceQuery,
    responses: { 202: created('deliveries started', s.replayAnswer), 400: error('invalid since'), 404: error('no such subscriber in this tenant'), 409: error('subscriber disabled') },
  },
  'GET /provider-health': { summary: 'Health score and status per provider (system-wide)', tag: 'monitoring', responses: { 200: created('providers', s.providerHealth) } },
  'GET /sla': { summary: 'SLA reports and compliance', tag: 'monitoring', query: s.slaQuery, responses: { 200: created('reports', s.slaAnswer), 400: error('invalid filter') } },
  'GET /alerts': { summary: 'Alerts (system-wide)', tag: 'monitoring', query: s.alertsQuery, responses: { 200: created('alerts', s.alertList), 400: error('invalid filter') } },
  'GET /alerts/:id': { summary: 'One alert with its live escalation state', tag: 'monitoring', responses: { 200: created('the alert', s.alertView), 404: error('no such alert') } },
  'POST /alerts/:id/ack': {
    summary: 'Acknowledge an alert: stops its escalation',
    tag: 'monitoring',
    body: s.ackBody,
    responses: { 202: created('acknowledged', s.ackAnswer), 404: error('no such alert'), 409: error('not firing') },
  },
  'POST /alerts/alertmanager': {
    summary: "Alertmanager's webhook receiver (payload version 4): raise (firing) or resolve (resolved) one alert workflow per alert, `alert:alertmanager:{alertname}:{fingerprint}`",
    tag: 'monitoring',
    body: s.alertmanagerBody,
    responses: {
      202: created('raised or resolved (per alert: raised, already_open, resolved or not_open)', s.alertmanagerAnswer),
      400: error('not an Alertmanager version 4 payload (fields named); nothing raised'),
      413: error('body over 2 MB'),
      503: error('Temporal unreachable: retry later'),
    },
  },
  'GET /budgets': { summary: 'Provider budget use against its daily and monthly limits', tag: 'providers', responses: { 200: created('budgets', s.budgetList) } },
  'GET /circuits': { summary: 'Circuit breaker state per provider', tag: 'providers', responses: { 200: created('circuits', s.circuitList) } },
  'DELETE /cache': {
    summary: "Invalidate this tenant's cached provider reads under a key prefix",
    tag: 'providers',
    query: s.cachePrefixQuery,
    responses: { 200: created('entries removed', s.cacheRemoved), 400: error('prefix missing') },
  },
  'GET /api-keys': { summary: "The tenant's API keys (never their secrets)", tag: 'api keys', responses: { 200: created('keys', s.apiKeyList) } },
  'POST /api-keys': {
    summary: 'Create an API key of this tenant; the key is in this answer only',
    tag: 'api keys',
    body: s.apiKeyBody,
    responses: { 201: created('created', s.apiKeyCreated), 400: error('invalid role or name (fields named)') },
  },
  'DELETE /api-keys/:keyId': { summary: 'Revoke an API key', tag: 'api keys', responses: { 204: { description: 'revoked' }, 404: error('no live key with that id in this tenant') } },
  'GET /webhook-secrets': {
    summary: "The tenant's webhook signing secrets stored in PostgreSQL: ids, sources, fingerprints and windows, never a value",
    tag: 'webhook secrets',
    query: s.webhookSecretsQuery,
    responses: { 200: created('secrets', s.webhookSecretList), 400: error('invalid filter') },
  },
  'POST /webhook-secrets': {
    summary: 'Store a signing secret for a webhook source (encrypted); `generate: true` makes one, shown in this answer only',
    tag: 'webhook secrets',
    body: s.webhookSecretBody,
    responses: {
      201: created('stored', s.webhookSecretCreated),
      400: error('unknown source, invalid secret, or a source that issues its own secret (fields named)'),
      503: error('SECRETS_MASTER_KEYS is not configured'),
    },
  },
  'PATCH /webhook-secrets/:id': {
    summary: "Set or clear a secret's notAfter (end of its rotation window)",
    tag: 'webhook secrets',
    body: s.webhookSecretPatch,
    responses: { 200: created('changed', s.webhookSecretInfo), 400: error('invalid notAfter'), 404: error('no such secret in this tenant') },
  },
  'DELETE /webhook-secrets/:id': { summary: 'Remove a stored webhook signing secret', tag: 'webhook secrets', responses: { 204: { description: 'removed' }, 404: error('no such secret in this tenant') } },
  'GET /audit': {
    summary: "The tenant's audit log: operator and admin actions (retry, replay, ack, cache, subscribers, API keys) with actor, target and outcome",
    tag: 'audit',
    query: s.auditQuery,
    responses: { 200: created('entries, newest first', s.auditList), 400: error('invalid filter (fields named)') },
  },
};

const webhookDoc: Operation = {
  summary: "A provider's webhook, verified by its signature scheme (docs/WEBHOOKS.md); starts processWebhook once per event id",
  tag: 'webhooks',
  body: z.unknown(),
  responses: {
    202: created('accepted: durably started', s.webhookAccepted),
    200: created('a duplicate of an accepted event: the same workflow', s.webhookAccepted),
    400: error('malformed body'),
    401: error('signature missing, invalid or stale'),
    404: error('unknown source'),
    413: error('body over WEBHOOK_BODY_LIMIT_BYTES'),
    415: error('unsupported media type'),
    503: error('no secret configured, or Temporal unreachable: retry later'),
  },
};

const publicDocs: Record<string, Operation> = {
  'GET /healthz': { summary: 'Liveness', tag: 'health', responses: { 200: created('alive', s.healthAnswer) } },
  'GET /readyz': {
    summary: 'Readiness: Temporal and PostgreSQL answer (503 if not); degraded (still 200) while no worker polls the main task queue. Metrics are on API_METRICS_PORT, not here',
    tag: 'health',
    responses: { 200: created('ready, or degraded: no worker polling', s.readyAnswer), 503: created('not ready', s.readyAnswer) },
  },
  'GET /openapi.json': { summary: 'This document', tag: 'health', responses: { 200: { description: 'OpenAPI 3.1' } } },
  'POST /webhooks/:source': webhookDoc,
  'POST /webhooks/generic/:source': webhookDoc,
  'POST /tenants/:tenant/webhooks/:source': webhookDoc,
  'POST /tenants/:tenant/webhooks/generic/:source': webhookDoc,
  'POST /webhooks/google/:source': webhookDoc,
  'POST /tenants/:tenant/webhooks/google/:source': webhookDoc,
};

/** The query a service route takes, as documented here (api/route-input.ts refuses any other). */
export function documentedQuery(method: Method, path: string): z.ZodObject | undefined {
  const key = `${method} ${path}`;
  return Object.hasOwn(serviceDocs, key) ? serviceDocs[key]!.query : undefined;
}

/** The JSON body a service route takes, as documented here. */
export function documentedBody(method: Method, path: string): z.ZodType | undefined {
  const key = `${method} ${path}`;
  return Object.hasOwn(serviceDocs, key) ? serviceDocs[key]!.body : undefined;
}

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
    ? { ...doc.responses, 401: error('no or an invalid credential'), 403: error("the caller's role lacks this permission"), 429: error('rate limited (Retry-After)') }
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
  for (const [method, path, permission] of serviceRoutes) {
    const doc = serviceDocs[`${method} ${path}`];
    if (!doc) throw new Error(`api/openapi.ts: ${method} ${path} is not documented`);
    add(operation(method, path, doc, permission));
    add(operation(method, `/tenants/:tenant${path}`, doc, permission));
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
