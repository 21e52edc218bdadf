/**
 * The service API's request and response shapes as zod schemas, in one place: each route's
 * declaration (api/routes/*) names the ones it takes and answers, validates requests with the
 * request schemas, and api/openapi.ts turns both kinds into the OpenAPI document's JSON Schemas;
 * the typed client's types are inferred from them. A 400 names each bad field (`fields`: path → message).
 */
import { z } from 'zod';
import { roles } from '../lib/security/api-keys';
import { auditActions, auditOutcomes } from '../lib/data/audit-log';
import { batchPriorities, flushReasons } from '../contracts/batch';
import { callPriorities } from '../contracts/call';
import { alertSeverities } from '../contracts/monitoring';

const isoDateTime = z.string().datetime({ offset: true });
const id = z.string();

// ---------------------------------------------------------------- requests

/**
 * The text rule of the service API, one check for every string it takes (body fields and keys,
 * query values, path segments): no NUL (PostgreSQL text cannot hold it, and no id or filter
 * contains one) and no unpaired UTF-16 surrogate (not Unicode text: a JSON escape such as
 * "\ud800" makes one, and it cannot be stored or sent on as UTF-8).
 */
export function isWellFormedText(value: string): boolean {
  return !value.includes('\u0000') && !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(value);
}
export const WELL_FORMED_TEXT = 'must not contain NUL or unpaired surrogate characters';
/** The text rule as a zod check: `text()` carries it, and a test finds it on every request string. */
export const wellFormedText = z.refine<string>(isWellFormedText, WELL_FORMED_TEXT);
/** A request string: z.string() with the text rule; chain further checks after it. */
export const text = () => z.string().check(wellFormedText);

function badTextIn(value: unknown, path: PropertyKey[], found: Array<PropertyKey[]>): void {
  if (found.length >= 10) return;
  if (typeof value === 'string') {
    if (!isWellFormedText(value)) found.push(path);
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => badTextIn(item, [...path, i], found));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (!isWellFormedText(key)) found.push([...path, key]);
      badTextIn(item, [...path, key], found);
    }
  }
}
/** The text rule over any JSON value (provider params): every string in it, keys included. */
export const wellFormedJson = z.superRefine<unknown>((value, ctx) => {
  const found: Array<PropertyKey[]> = [];
  badTextIn(value, [], found);
  for (const path of found) ctx.addIssue({ code: 'custom', message: WELL_FORMED_TEXT, path });
});
/** Any JSON value under the text rule. */
export const jsonValue = () => z.unknown().check(wellFormedJson);

/** A whole number in a query string: digits only (no sign, exponent, space or hex), at most 9 of them. */
const wholeNumber = () =>
  text()
    .regex(/^\d{1,9}$/, 'a whole number of at most 9 digits')
    .transform(Number);
const queryLimit = (max: number, byDefault = 100) => wholeNumber().pipe(z.number().min(1).max(max)).default(byDefault);
/** `?offset=`: rows skipped before the page (list routes that answer a `total`). */
const queryOffset = () => wholeNumber().pipe(z.number().min(0).max(1_000_000)).default(0);
/**
 * `?offset=` of a list read from Temporal visibility, which pages by token: the API walks past the
 * skipped runs, so the offset is kept small (narrow the filters to reach older runs).
 */
const visibilityOffset = () => wholeNumber().pipe(z.number().min(0).max(10_000)).default(0);

export const idempotencyKey = z.string().regex(/^[A-Za-z0-9_.:-]{1,200}$/, '1-200 characters of A-Z a-z 0-9 _ . : -');

/** `?wait=<ms>`: how long to wait for the result before answering 202. */
export const waitQuery = z.object({ wait: wholeNumber().optional() });

export const callBody = z.object({
  /** The operation's params (each provider operation validates its own; see docs/CALLS.md). */
  params: z.record(text(), jsonValue()).default({}),
  priority: z.enum(callPriorities).default('normal'),
});

export const bookingBody = z.object({
  amount: z.number().int().positive(),
  currency: text().regex(/^[a-z]{3}$/, 'three lowercase letters (ISO 4217)'),
  customer: text().min(1).optional(),
  calendarId: text().min(1),
  summary: text().min(1).max(500),
  start: text().pipe(isoDateTime),
  end: text().pipe(isoDateTime),
  phone: text().regex(/^\+[1-9]\d{6,14}$/, 'E.164, e.g. +14155550100'),
  email: text().pipe(z.email()),
  /** The payer's saved PayPal wallet: lets PayPal, Stripe's backup, capture without the payer's approval. */
  paypalVaultId: text().regex(/^[A-Za-z0-9_-]{1,128}$/, 'a PayPal vault id: 1-128 letters, digits, _ or -').optional(),
});

export const batchItemBody = z.object({
  params: z.record(text(), jsonValue()),
  priority: z.enum(['critical', ...batchPriorities]).default('medium'),
  /** Items with the same key inside the dedup window share one result; default: a hash of the params. */
  dedupKey: text().min(1).max(200).optional(),
});

const filterList = z.array(text().regex(/^[A-Za-z0-9_.:*-]{1,200}$/)).max(100);
export const subscriberBody = z.object({
  url: text().pipe(z.url()).refine((u) => /^https?:\/\//.test(u), 'http or https URL'),
  providers: filterList.default([]),
  eventTypes: filterList.default([]),
});
/** Only the fields sent change: no defaults here, or a PATCH of `enabled` alone would empty the filters. */
export const subscriberPatch = z.object({
  url: subscriberBody.shape.url.optional(),
  providers: filterList.optional(),
  eventTypes: filterList.optional(),
  enabled: z.boolean().optional(),
});
export const sinceQuery = z.object({ since: text().pipe(isoDateTime) });
export const deliveriesQuery = z.object({
  subscriber: text().optional(),
  /** `problem`: pending (first attempt or retrying) and dead-lettered ones. */
  status: z.enum(['pending', 'delivered', 'dead_lettered', 'skipped', 'problem']).optional(),
  limit: queryLimit(500, 500),
  offset: queryOffset(),
});

export const eventsQuery = z.object({
  provider: text().regex(/^[a-z0-9:_-]{1,100}$/).optional(),
  type: text().max(255).optional(),
  status: z.enum(['received', 'processing', 'completed', 'failed']).optional(),
  from: text().pipe(isoDateTime).optional(),
  to: text().pipe(isoDateTime).optional(),
  limit: queryLimit(500),
  offset: queryOffset(),
});

export const callsQuery = z.object({
  provider: text().regex(/^[a-z0-9:_-]{1,100}$/).optional(),
  status: z.enum(['running', 'completed', 'failed', 'terminated', 'timed_out', 'canceled']).optional(),
  from: text().pipe(isoDateTime).optional(),
  to: text().pipe(isoDateTime).optional(),
  limit: queryLimit(500),
  offset: visibilityOffset(),
});

/** GET /bookings: the tenant's booking sagas from Temporal visibility, like GET /calls. */
export const bookingsQuery = z.object({
  status: callsQuery.shape.status,
  from: text().pipe(isoDateTime).optional(),
  to: text().pipe(isoDateTime).optional(),
  limit: queryLimit(500),
  offset: visibilityOffset(),
});

/** GET /batches/items: the tenant's sent and failed batch items from PostgreSQL, newest first. */
export const batchItemsQuery = z.object({
  provider: text().regex(/^[a-z0-9:_-]{1,100}$/).optional(),
  operation: text().regex(/^[A-Za-z0-9_]{1,100}$/).optional(),
  status: z.enum(['sent', 'failed']).optional(),
  from: text().pipe(isoDateTime).optional(),
  to: text().pipe(isoDateTime).optional(),
  limit: queryLimit(500),
});

export const slaQuery = z.object({
  provider: text().min(1).max(100).optional(),
  window: z.enum(['hourly', 'daily']).optional(),
  limit: queryLimit(1000),
  offset: queryOffset(),
});
export const alertsQuery = z.object({
  state: z.enum(['firing', 'acknowledged', 'resolved', 'open']).optional(),
  limit: queryLimit(1000),
  offset: queryOffset(),
});
/**
 * GET /stats/*: a time range cut into buckets for the console's charts. Default: the last 60
 * buckets up to now; `from` must come before `to`, and the range holds at most MAX_SERIES_BUCKETS.
 */
export const seriesQuery = z.object({
  from: text().pipe(isoDateTime).optional(),
  to: text().pipe(isoDateTime).optional(),
  bucket: z.enum(['minute', 'hour', 'day']).default('minute'),
});
export const ackBody = z.object({ by: text().min(1).max(200).default('api') }).default({ by: 'api' });

/** Alertmanager's webhook_config payload, version 4 (api/routes/alertmanager.ts). */
const labelValue = text().max(4096);
const labelSet = z.record(text(), labelValue);
export const alertmanagerBody = z
  .object({
    version: z.literal('4'),
    receiver: text(),
    status: z.enum(['firing', 'resolved']),
    groupKey: text().optional(),
    truncatedAlerts: z.number().int().nonnegative().optional(),
    groupLabels: labelSet,
    commonLabels: labelSet,
    commonAnnotations: labelSet,
    externalURL: text(),
    alerts: z
      .array(
        z
          .object({
            status: z.enum(['firing', 'resolved']),
            labels: z.object({ alertname: text().min(1).max(200) }).catchall(labelValue),
            annotations: labelSet,
            startsAt: text().pipe(isoDateTime),
            endsAt: text().pipe(isoDateTime),
            generatorURL: text(),
            fingerprint: text().regex(/^[0-9a-f]{1,64}$/, "Alertmanager's fingerprint: hex digits"),
          })
          // Fields of later Alertmanager versions pass through, under the text rule like the rest.
          .catchall(jsonValue()),
      )
      .min(1)
      .max(1000),
  })
  .catchall(jsonValue());

export const cachePrefixQuery = z.object({ prefix: text().min(1).max(500) });

export const apiKeyBody = z.object({
  role: z.enum(roles),
  name: text().pipe(z.string().trim().min(1).max(200)),
});

/** An ISO time PostgreSQL can store (years 1 to 9999). */
const storableTime = text().pipe(isoDateTime).refine((value) => {
  const year = new Date(value).getUTCFullYear();
  return year >= 1 && year <= 9999;
}, 'a time between the years 1 and 9999');
const webhookSourceName = text().regex(/^(generic:)?[a-z][a-z0-9-]{0,62}$/, 'a configured webhook source, e.g. "stripe" or "generic:shopify"');
/** POST /webhook-secrets: the provider's secret, or `generate: true` where Switchyard chooses it (shown once). */
export const webhookSecretBody = z
  .object({
    source: webhookSourceName,
    secret: text()
      .min(1)
      .max(4096)
      // Surrounding whitespace is judged per scheme (a PEM key ends with a line end): api/routes/webhook-secrets.ts.
      .optional(),
    generate: z.boolean().optional(),
    /** End of the secret's rotation window: from then on it no longer verifies. */
    notAfter: storableTime.nullable().optional(),
  })
  .refine((body) => (body.secret === undefined) === (body.generate === true), { message: 'send either "secret" or "generate": true', path: ['secret'] });
export const webhookSecretPatch = z.object({ notAfter: storableTime.nullable() });
export const webhookSecretsQuery = z.object({ source: webhookSourceName.optional() });

export const auditQuery = z.object({
  action: z.enum(auditActions).optional(),
  from: text().pipe(isoDateTime).optional(),
  to: text().pipe(isoDateTime).optional(),
  limit: queryLimit(1000),
});

export const streamQuery = z.object({
  /** Comma-separated topics (default: all). */
  topics: text().optional(),
});

// ---------------------------------------------------------------- responses

export const errorAnswer = z.object({
  error: z.string(),
  reason: z.string(),
  /** Field path → message, for a 400 about specific fields. */
  fields: z.record(z.string(), z.string()).optional(),
});

const failure = z.object({ message: z.string(), type: z.string().nullable() });
const workflowRef = z.object({ workflowId: id, runId: id });

export const callAnswer = workflowRef.extend({
  status: z.enum(['completed', 'failed', 'running']),
  duplicate: z.boolean().optional(),
  result: z.unknown().optional(),
  error: failure.optional(),
});

/** GET /calls/:id, /bookings/:id, /webhooks/events/:id: the workflow's status query and description. */
export const workflowView = z.looseObject({
  workflowId: id,
  /** null while a webhook waits in the inbox (executionStatus QUEUED): accepted, not started yet. */
  runId: id.nullable(),
  executionStatus: z.string(),
  startTime: isoDateTime.nullable(),
  closeTime: isoDateTime.nullable(),
  /** The workflow's own status query; null while no worker has answered it. */
  status: z.string().nullable(),
});

/** An accepted event: its workflow id, and its run id once the inbox drainer started it (a fresh 202 has none yet). */
const inboxRef = z.object({ workflowId: id, runId: id.optional() });

export const webhookAccepted = z.union([
  inboxRef.extend({ duplicate: z.literal(true).optional() }),
  z.object({ events: z.array(inboxRef.extend({ eventId: z.string(), duplicate: z.boolean().optional() })) }),
]);

export const batchItemAccepted = z.looseObject({
  itemId: id,
  duplicate: z.boolean(),
  batched: z.boolean(),
  batchId: id.optional(),
  workflowId: id.optional(),
  status: z.string().optional(),
});

export const batchItemAnswer = z.object({
  itemId: id,
  status: z.enum(['queued', 'sent', 'failed', 'running']),
  result: z.unknown().nullable(),
  error: z.unknown().nullable(),
  batchSize: z.number().int().optional(),
  /** Why the item's flush went: size, cost (threshold), rate (the observed rate's size) or wait; null for items flushed before it was recorded. */
  flushReason: z.enum(flushReasons).nullable().optional(),
  sentAt: isoDateTime.optional(),
});

/** POST /batches/…?wait=: the item accepted and, when it was sent within the wait, its result. */
export const batchItemWaited = batchItemAccepted.extend(batchItemAnswer.omit({ itemId: true }).partial().shape);

export const batchItemList = z.object({
  /** Sent or failed items, newest first; queued ones are in their batch workflow (GET /batches/items/:id). */
  items: z.array(
    z.object({
      itemId: id,
      provider: z.string(),
      operation: z.string(),
      priority: z.string(),
      status: z.enum(['sent', 'failed']),
      error: z.string().nullable(),
      batchSize: z.number().int(),
      flushReason: z.enum(flushReasons).nullable(),
      batchId: id,
      sentAt: isoDateTime,
    }),
  ),
});

export const callList = z.object({
  calls: z.array(z.object({ workflowId: id, provider: z.string(), executionStatus: z.string(), startTime: isoDateTime, closeTime: isoDateTime.nullable() })),
  /** Temporal visibility's count of the calls the filters match. */
  total: z.number().int(),
});

export const bookingList = z.object({
  bookings: z.array(z.object({ workflowId: id, executionStatus: z.string(), startTime: isoDateTime, closeTime: isoDateTime.nullable() })),
  /** Temporal visibility's count of the bookings the filters match. */
  total: z.number().int(),
});

const ledgerEvent = z.looseObject({ workflowId: id, provider: z.string(), eventId: z.string(), eventType: z.string().nullable(), status: z.string() });
/** `total`: the ledger's rows that match the filters, plus the in-flight ones listed on the first page. */
export const eventList = z.object({ events: z.array(ledgerEvent), total: z.number().int() });
export const rerunAnswer = z.object({ runId: id, rerun: z.boolean(), workflowId: id.optional(), deliveryId: id.optional() });

export const subscriber = z.object({
  id,
  url: z.string(),
  providers: z.array(z.string()),
  eventTypes: z.array(z.string()),
  enabled: z.boolean(),
  disabledReason: z.string().nullable(),
  createdAt: isoDateTime,
});
export const subscriberCreated = subscriber.extend({ signingSecret: z.string() });
export const subscriberList = z.object({ subscribers: z.array(subscriber) });
/**
 * `total`: the deliveries matching the filters; `counts`: the subscriber filter's deliveries per
 * state, `pending` split into `pending` (first attempt not made) and `retrying`; `nextAttemptAt`
 * (retrying ones): when the next attempt is due, from the open deliverEvent workflow's status
 * query (null when no worker answered in time).
 */
export const deliveryList = z.object({
  deliveries: z.array(z.looseObject({ id, status: z.string(), attempts: z.number().int(), nextAttemptAt: z.string().nullable().optional() })),
  total: z.number().int(),
  counts: z.object({ pending: z.number().int(), retrying: z.number().int(), delivered: z.number().int(), dead_lettered: z.number().int(), skipped: z.number().int() }),
});
export const replayAnswer = z.object({ replayed: z.number().int(), deliveries: z.array(z.unknown()) });

const probeSummary = z.object({ ok: z.boolean(), status: z.number().int().nullable(), latencyMs: z.number().int(), error: z.string().nullable(), at: isoDateTime });
export const providerHealth = z.object({
  providers: z.array(
    z.looseObject({
      provider: z.string(),
      status: z.string(),
      score: z.number().nullable(),
      /** p95 of the probe latencies of the last hour (nearest rank). */
      p95Ms: z.number().nullable(),
      /** The latest probes, newest first. */
      lastProbes: z.array(probeSummary),
    }),
  ),
});
export const slaAnswer = z.object({
  reports: z.array(z.looseObject({ provider: z.string() })),
  /** Every report the filters match (the page is `limit` of them from `offset`). */
  total: z.number().int(),
  /** Over all `total` reports: compliant and complianceRatio count only the reports with data (probes or calls); noData the others. */
  summary: z.object({ reports: z.number().int(), noData: z.number().int(), compliant: z.number().int(), complianceRatio: z.number().nullable() }),
});
const alert = z.looseObject({ id, provider: z.string().nullable().optional(), severity: z.string(), state: z.string() });
/** `total`: every alert in the state asked for (the page is `limit` of them from `offset`). */
export const alertList = z.object({ alerts: z.array(alert), total: z.number().int() });
export const alertView = alert.extend({ live: z.unknown() });
export const ackAnswer = z.object({ id, runId: id, acknowledgedBy: z.string(), escalationLevel: z.number().int() });
export const alertmanagerAnswer = z.object({
  /** One entry per alert of the payload, in its order. */
  alerts: z.array(
    z.object({
      /** The Switchyard alert: `alert:alertmanager:{alertname}:{fingerprint}`. */
      id,
      status: z.enum(['firing', 'resolved']),
      severity: z.enum(alertSeverities),
      /** raised: a new alert run; already_open: the open one is kept; resolved; not_open: nothing to resolve. */
      outcome: z.enum(['raised', 'already_open', 'resolved', 'not_open']),
    }),
  ),
});
const usd = z.number().nonnegative();
export const budgetList = z.object({
  budgets: z.array(
    z.looseObject({
      provider: z.string(),
      /** Every tenant's spend with the provider this month and its run-rate month-end projection. */
      projection: z.object({ spentUsd: usd, projectedUsd: usd, monthlyBudgetUsd: usd.nullable(), projectedPercent: z.number().nullable() }),
      /** The cost anomaly rule's figures for the last window (see anomalyRule). */
      anomaly: z
        .object({ windowUsd: usd, baselineUsdPerWindow: usd.nullable(), ratio: z.number().nullable(), anomalous: z.boolean() })
        .nullable(),
    }),
  ),
  /** Percentages of a budget at which a budget alert is raised (70/85/95). */
  thresholds: z.array(z.number()),
  /** Non-critical calls are refused past this percentage. */
  refusalPercent: z.number(),
  /** The caller's tenant's spend this month per provider, projected to month end: spent / elapsed fraction of the month. */
  projection: z.object({
    method: z.literal('run-rate'),
    monthStart: isoDateTime,
    monthEnd: isoDateTime,
    at: isoDateTime,
    elapsedFraction: z.number().min(0).max(1),
    tenant: z.string(),
    byProvider: z.array(z.object({ provider: z.string(), spentUsd: usd, projectedUsd: usd })),
  }),
  /** Anomalous: the window's spend ≥ minUsd and > multiple × the average spend per window over the baseline before it. */
  anomalyRule: z.object({
    multiple: z.number(),
    windowMs: z.number().int(),
    baselineMs: z.number().int(),
    minUsd: z.number(),
    windowStart: isoDateTime.nullable(),
    windowEnd: isoDateTime.nullable(),
  }),
});
/** The buckets every series of a GET /stats/* answer is aligned with: value i belongs to `buckets[i]`. */
const seriesRange = {
  from: isoDateTime,
  to: isoDateTime,
  bucket: z.enum(['minute', 'hour', 'day']),
  /** Each bucket's start, oldest first (the first is `from` rounded down to the bucket, UTC). */
  buckets: z.array(isoDateTime),
};
const counts = z.array(z.number().int().nonnegative());
const ratios = z.array(z.number().min(0).max(1).nullable());
const millis = z.array(z.number().nullable());
export const healthSeries = z.object({
  ...seriesRange,
  /** Every provider of the registry (system-wide, like GET /provider-health). */
  providers: z.array(
    z.object({
      provider: z.string(),
      probes: counts,
      /** Share of the bucket's probes that succeeded (no probe: null). */
      availability: ratios,
      /** Nearest-rank p50 / p95 latency of the bucket's successful probes, ms. */
      p50Ms: millis,
      p95Ms: millis,
      /** Real calls (every tenant's) and the share that succeeded. */
      calls: counts,
      callSuccess: ratios,
    }),
  ),
});
export const volumeSeries = z.object({
  ...seriesRange,
  /** The caller's tenant's webhooks by arrival: received, and of those how many completed or failed (the rest are in flight). */
  webhooks: z.object({ tenant: z.string(), received: counts, completed: counts, failed: counts }),
  /** Calls to the registry's providers, every tenant's (call outcomes carry no tenant), probes left out. */
  calls: z.object({ succeeded: counts, failed: counts }),
});
export const spendSeries = z.object({
  ...seriesRange,
  /** Every tenant's spend (reserved and settled) per provider that spent in the range, USD per bucket. */
  providers: z.array(z.object({ provider: z.string(), usd: z.array(usd) })),
});
export const circuitList = z.object({ circuits: z.array(z.looseObject({ provider: z.string(), state: z.string() })) });
export const cacheRemoved = z.object({ prefix: z.string(), removed: z.number().int() });

export const apiKeyInfo = z.object({
  keyId: id,
  tenant: z.string(),
  role: z.enum(roles),
  name: z.string(),
  createdAt: isoDateTime,
  revokedAt: isoDateTime.nullable(),
  lastUsedAt: isoDateTime.nullable(),
});
export const apiKeyCreated = apiKeyInfo.extend({ key: z.string() });
export const apiKeyList = z.object({ keys: z.array(apiKeyInfo) });

export const webhookSecretInfo = z.object({
  id,
  source: z.string(),
  /** First 8 hex digits of the secret's SHA-256: tells secrets apart, never the value. */
  fingerprint: z.string(),
  createdAt: isoDateTime,
  notAfter: isoDateTime.nullable(),
});
/** `secret` only when Switchyard generated it, in this answer only. */
export const webhookSecretCreated = webhookSecretInfo.extend({ secret: z.string().optional() });
export const webhookSecretList = z.object({ webhookSecrets: z.array(webhookSecretInfo) });

export const auditList = z.object({
  /** Newest first. */
  entries: z.array(
    z.object({
      id,
      at: isoDateTime,
      tenant: z.string(),
      /** The key id, token subject or (kind `cli`) OS user: never a credential. */
      actor: z.object({ kind: z.enum(['api-key', 'jwt', 'cli']), id: z.string() }),
      role: z.enum(roles).nullable(),
      action: z.string(),
      target: z.string().nullable(),
      detail: z.record(z.string(), z.unknown()),
      /** The HTTP status answered (null for the CLI). */
      status: z.number().int().nullable(),
      outcome: z.enum(auditOutcomes),
    }),
  ),
});

export const whoamiAnswer = z.object({
  /** The key id or token subject (never the credential). */
  id: z.string(),
  kind: z.enum(['api-key', 'jwt']),
  tenant: z.string(),
  role: z.enum(roles),
  /** The permissions of api/access.ts this role has. */
  permissions: z.array(z.string()),
  temporal: z.object({ namespace: z.string(), uiUrl: z.string() }),
});

const base64 = text().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'must be base64');
/** The Temporal Web UI's codec-server wire form: metadata values and data in base64. */
export const codecBody = z.object({
  payloads: z
    .array(z.object({ metadata: z.record(text(), base64).optional(), data: base64.optional() }))
    .max(1000, 'at most 1000 payloads a request'),
});
export type CodecBody = z.infer<typeof codecBody>;

export const healthAnswer = z.object({ status: z.literal('ok') });
/** `degraded`: Temporal and PostgreSQL answer but no worker polls the main task queue (still 200; api/routes/health.ts). */
export const readyAnswer = z.object({
  status: z.enum(['ready', 'degraded', 'not_ready']),
  worker: z.enum(['polling', 'none polling', 'unknown']),
  checks: z.object({ temporal: z.unknown(), postgres: z.unknown(), worker: z.unknown() }),
});
/** One dependency's answer in GET /health/detailed: ok or why not, and how long it took. */
const dependencyCheck = { ok: z.boolean(), latencyMs: z.number(), error: z.string().optional() };
export const detailedHealth = z.object({
  status: z.enum(['ok', 'degraded', 'failing']),
  /** Parts Switchyard needs that fail (503): `postgres`, `temporal`, `namespace`, `taskQueue:<name>:<workflow|activity>`. */
  failing: z.array(z.string()),
  /** Parts that do not stop Switchyard (200): `provider:<name>` (down, degraded, never probed or stale), `providers` (unreadable). */
  degraded: z.array(z.string()),
  checkedAt: z.string(),
  durationMs: z.number(),
  checks: z.object({
    postgres: z.object({ ...dependencyCheck, pendingMigrations: z.array(z.string()).optional() }),
    temporal: z.object({ ...dependencyCheck, serverVersion: z.string().optional() }),
    namespace: z.object({ ...dependencyCheck, name: z.string(), state: z.string().optional() }),
    taskQueues: z.array(z.object({ ...dependencyCheck, name: z.string(), type: z.enum(['workflow', 'activity']), pollers: z.number().int().optional() })),
    providers: z.object({
      ...dependencyCheck,
      providers: z.array(
        z.object({
          provider: z.string(),
          status: z.string(),
          lastProbeOk: z.boolean().nullable(),
          lastLatencyMs: z.number().nullable(),
          probedAt: z.string().nullable(),
          /** Not probed within three probe intervals (or never): its Schedule is not running. */
          stale: z.boolean(),
        }),
      ),
    }),
    /**
     * The webhook inbox, system-wide (counts only, no tenant): webhooks committed whose workflow is
     * not started yet, and how long the oldest has waited (0 when none). Never failing nor degraded.
     */
    inbox: z.object({ ...dependencyCheck, unstarted: z.number().int().optional(), oldestAgeSeconds: z.number().optional() }),
  }),
});
/** `started` once every migration is applied and Temporal answers for the namespace (then for good); `starting` before (503). */
export const startupAnswer = z.object({
  status: z.enum(['started', 'starting']),
  checks: z.object({
    migrations: z.object({ ok: z.boolean(), pending: z.array(z.string()).optional(), error: z.string().optional() }),
    temporal: z.object({ ok: z.boolean(), namespace: z.string(), error: z.string().optional() }),
  }),
});

// ---------------------------------------------------------------- operator reads (api/routes/operations.ts)

const periodUnits = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** The longest period a report reads: the hourly cache counters and cost rows reach that far back by default. */
export const MAX_PERIOD_MS = 90 * periodUnits.d;
/** `30m`, `24h`, `30d` in ms; NaN for anything else. */
export function periodMs(value: string): number {
  const found = /^(\d+)([mhd])$/.exec(value);
  return found ? Number(found[1]) * periodUnits[found[2] as keyof typeof periodUnits] : NaN;
}
/** A report's period back from now, as the source monitor's `?period=24h`: minutes, hours or days, at most 90d. */
const period = text()
  .regex(/^[1-9]\d{0,5}[mhd]$/, 'a period such as 30m, 24h or 30d')
  .refine((value) => !(periodMs(value) > MAX_PERIOD_MS), 'at most 90d')
  .default('24h');
const providerFilter = text().min(1).max(100);
export const periodQuery = z.object({ period });
export const cacheStatsQuery = z.object({ period, provider: providerFilter.optional() });

/** The period an answer covers. */
const periodRange = z.object({ period: z.string(), from: isoDateTime, to: isoDateTime });
const hitCounts = z.object({ hits: z.number(), misses: z.number(), total: z.number(), hitRate: z.number().nullable() });
export const cacheStatsAnswer = z.object({
  ...periodRange.shape,
  tenant: z.string(),
  /** One per cached provider operation (namespace `provider/operation`), with the live entries. */
  namespaces: z.array(z.object({ namespace: z.string(), provider: z.string(), operation: z.string(), ttlSeconds: z.number().nullable(), entries: z.number().int(), ...hitCounts.shape })),
  totals: z.object({ entries: z.number().int(), ...hitCounts.shape }),
});

const circuitView = z.object({ provider: z.string(), state: z.enum(['closed', 'open', 'half_open']), consecutiveFailures: z.number().int(), remainingOpenMs: z.number(), openUntil: isoDateTime.nullable() });
export const circuitReset = z.object({ provider: z.string(), before: circuitView, after: circuitView, resetBy: z.string(), at: isoDateTime });

export const rateLimitList = z.object({
  at: isoDateTime,
  providers: z.array(
    z.object({
      provider: z.string(),
      /** The registry's rate limit, enforced by the server on the provider's task queue across every worker. */
      limitPerSecond: z.number(),
      taskQueue: z.string(),
      /** Requests over the current and the last minute, as a rate and as a share of the limit. */
      lastMinute: z.object({ requests: z.number(), perSecond: z.number(), utilization: z.number(), throttled: z.number() }),
      lastHour: z.object({ requests: z.number(), peakMinute: z.number(), peakPerSecond: z.number(), throttled: z.number() }),
      lastThrottledAt: isoDateTime.nullable(),
    }),
  ),
});

export const batchQueueList = z.object({
  tenant: z.string(),
  at: isoDateTime,
  /** Queued items per provider and priority, every operation together. */
  queues: z.array(z.object({ provider: z.string(), priority: z.enum(batchPriorities), queued: z.number().int(), batches: z.number().int() })),
  /** Each open batch (one per provider, operation and priority); `queued` null when it did not answer its query. */
  batches: z.array(z.object({ workflowId: z.string(), provider: z.string(), operation: z.string(), priority: z.enum(batchPriorities), queued: z.number().int().nullable(), sent: z.number().int().nullable() })),
  total: z.number().int(),
  /** More open batches than one answer lists (the first ones are). */
  truncated: z.boolean(),
});

const durationStats = z.object({ count: z.number().int(), meanSeconds: z.number().nullable(), p50Seconds: z.number().nullable(), p95Seconds: z.number().nullable(), maxSeconds: z.number().nullable() });
const alertCounts = z.object({ total: z.number().int(), firing: z.number().int(), acknowledged: z.number().int(), resolved: z.number().int(), timeToAcknowledge: durationStats, timeToResolve: durationStats });
export const alertStatistics = z.object({
  ...periodRange.shape,
  bySeverity: z.array(z.object({ severity: z.enum(alertSeverities), ...alertCounts.shape })),
  totals: alertCounts,
});

const configValue = z.object({ name: z.string(), value: z.unknown(), redacted: z.boolean() });
export const effectiveConfig = z.object({
  /** Every variable of the process configuration with its value in force; secrets as `redacted` (value null). */
  variables: z.array(configValue),
  /** The monitoring variables (as the worker reads them), likewise; `error` when they do not validate here. */
  monitoring: z.object({ variables: z.array(configValue), error: z.string().nullable() }),
  /** The provider registry in force; credentials by environment variable name only. */
  providers: z.array(z.looseObject({ name: z.string(), kind: z.string(), credentials: z.record(z.string(), z.string()) })),
});
export const failoverTable = z.object({
  failover: z.array(
    z.object({
      provider: z.string(),
      strategy: z.enum(['primary-secondary', 'weighted']),
      /** The order tried after the provider (weighted: reordered by health at each call). */
      backups: z.array(z.object({ provider: z.string(), circuit: z.string(), known: z.boolean() })),
      circuit: z.string(),
      /** The provider's operations that may fail over (the others always stay on it). */
      operations: z.array(z.string()),
    }),
  ),
  /** Providers without failover. */
  single: z.array(z.string()),
});

export const performanceReport = z.object({
  ...periodRange.shape,
  tenant: z.string(),
  /** The tenant's batched items against the provider requests that carried them. */
  batching: z.object({
    items: z.number().int(),
    providerRequests: z.number().int(),
    requestsSaved: z.number().int(),
    reductionRatio: z.number().nullable(),
    byOperation: z.array(z.object({ provider: z.string(), operation: z.string(), items: z.number().int(), failed: z.number().int(), providerRequests: z.number().int(), requestsSaved: z.number().int() })),
  }),
  /** The tenant's cache hits: each a provider request (and its cost) not made. */
  cache: z.object({ hits: z.number(), misses: z.number(), hitRate: z.number().nullable(), requestsSaved: z.number(), usdSaved: usd }),
  /** Provider requests (every tenant's: calls and batch flushes) and the tenant's spend against each provider's budget. */
  providers: z.array(
    z.object({
      provider: z.string(),
      requests: z.number(),
      throttled: z.number(),
      failed: z.number(),
      spentUsd: usd,
      tenantSpentUsd: usd,
      /** The provider's budget over the period (its daily budget × the period's days), when it has one. */
      budgetUsd: usd.nullable(),
      budgetPercent: z.number().nullable(),
    }),
  ),
  totals: z.object({ requestsSaved: z.number(), usdSaved: usd, spentUsd: usd, tenantSpentUsd: usd }),
});

/** GET /suppressions: the tenant's suppression list (lib/data/suppressions.ts). */
export const suppressionChannel = z.enum(['email', 'sms']);
export const suppressionsQuery = z.object({ channel: suppressionChannel.optional(), limit: queryLimit(1000) });
const suppression = z.object({
  channel: suppressionChannel,
  address: z.string(),
  reason: z.string(),
  source: z.string(),
  sourceEventId: z.string().nullable(),
  detail: z.string().nullable(),
  changedAt: z.string(),
});
export const suppressionList = z.object({ suppressions: z.array(suppression) });
