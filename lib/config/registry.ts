/**
 * The provider registry: one typed description of every provider Switchyard calls (base URL,
 * credentials by env-var name, timeout, rate limit, circuit breaker, budget, operations with their
 * cost, cache TTL and failover; probe endpoint, SLA targets, warning and critical thresholds). By default assembled from the
 * registered providers' defaults (each folder's index.ts, listed in providers/index.ts); a
 * PROVIDERS_FILE replaces them all. PROVIDER_<NAME>_BASE_URL overrides a base URL; everything is
 * validated at start with errors that name the field.
 * Pure data once loaded; credentials are resolved from the environment only inside activities.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { formatIssues } from '../zod-issues';

import { defaultRegistryDocument, providerKinds, registeredKinds, type ProviderKind } from '../../providers';

export { providerKinds, type ProviderKind };

const name = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'lowercase letters, digits and "-"');

/** USD per 1000 tokens of one model: the prompt's and the generated ones. */
const tokenPriceSchema = z.strictObject({
  promptPer1kUsd: z.number().nonnegative(),
  completionPer1kUsd: z.number().nonnegative().default(0),
});

const operationSchema = z.object({
  /** What one call costs; for a token-priced operation the least reserved when the call is planned. */
  costUsd: z.number().nonnegative().default(0),
  /**
   * Token-priced operations (chat completions, embeddings), by model: the call reserves an estimate
   * from its params (prompt length, max tokens) before it is sent and is settled at the answer's
   * `usage` times these prices. A model not listed is refused (400) rather than run unbudgeted.
   */
  tokenPrices: z.record(z.string().min(1).max(100), tokenPriceSchema).optional(),
  /** Reads only: results cached per tenant for this long. */
  cacheTtlSeconds: z.number().int().positive().optional(),
  /**
   * Reads only (with cacheTtlSeconds): graceful degradation. For this long past its expiry the
   * last cached answer is kept, and returned marked `stale` when the provider fails (server error,
   * timeout) or its circuit is open and no backup is left to try.
   */
  staleIfErrorSeconds: z.number().int().positive().max(30 * 86_400).optional(),
  /** The call may go to the provider's failover backups (which must offer the same operation). */
  failoverCapable: z.boolean().default(false),
  /** `http` providers only: the request to make; `{field}` in the path is filled from params. */
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).optional(),
  path: z.string().startsWith('/').optional(),
  /**
   * `http` providers only: the operation is a generic batch endpoint. It takes
   * `{"items":[{"id","body"}]}` and answers `{"results":[{"id","status","body"}]}`, one result per
   * item (status ≥ 400 fails only that item). Used by the batch workflow's `items` mode.
   */
  batchEndpoint: z.boolean().default(false),
});

const circuitSchema = z.object({
  /** Opens after this many consecutive failures … */
  failureThreshold: z.number().int().positive().default(5),
  /** … or when the error rate over the window reaches this (with at least minimumRequests calls). */
  errorRateThreshold: z.number().gt(0).max(1).default(0.5),
  windowSeconds: z.number().int().positive().default(60),
  minimumRequests: z.number().int().positive().default(20),
  /** Open → half-open after this long. */
  coolDownSeconds: z.number().positive().default(60),
  /** Half-open → closed after this many successes. */
  successThreshold: z.number().int().positive().default(3),
});

/**
 * A rate limit as the sources write it: `requests` per `windowSeconds` (100 per 60 s). Enforced as
 * the average rate requests / windowSeconds on the provider's task queue (see rateLimitPerSecond).
 */
const rateLimitWindowSchema = z.strictObject({
  requests: z.number().int().positive(),
  windowSeconds: z.number().positive(),
});

/**
 * Warning and critical levels of a provider's response time (p95, ms), error rate and availability
 * (both fractions). The weighted failover's response-time score reads the response-time pair
 * (activities/routing.ts); docs/PROVIDERS.md lists every provider's (scripts/provider-table.ts).
 */
const thresholdsSchema = z
  .strictObject({
    responseTimeWarningMs: z.number().int().positive().default(2000),
    responseTimeCriticalMs: z.number().int().positive().default(5000),
    errorRateWarning: z.number().min(0).max(1).default(0.02),
    errorRateCritical: z.number().min(0).max(1).default(0.05),
    availabilityWarning: z.number().gt(0).max(1).default(0.98),
    availabilityCritical: z.number().gt(0).max(1).default(0.95),
  })
  .refine((t) => t.responseTimeWarningMs < t.responseTimeCriticalMs, { message: 'responseTimeWarningMs must be below responseTimeCriticalMs' })
  .refine((t) => t.errorRateWarning <= t.errorRateCritical, { message: 'errorRateWarning must not exceed errorRateCritical' })
  .refine((t) => t.availabilityWarning >= t.availabilityCritical, { message: 'availabilityWarning must not be below availabilityCritical' });

const batchSchema = z.object({
  /** Items per provider request (SendGrid: up to 1000 personalizations; Twilio Notify: 10 000 bindings). */
  maxSize: z.number().int().positive().max(10_000),
  /** Longest an item waits for its batch to fill, per priority (critical items are never batched). */
  maxWaitMs: z.object({
    high: z.number().int().positive().default(500),
    medium: z.number().int().positive().default(2000),
    low: z.number().int().positive().default(10_000),
  }),
  /** A repeated item key within this window gets the first item's result. */
  dedupWindowSeconds: z.number().int().nonnegative().default(60),
  /**
   * How a flush reaches the provider:
   * - `grouped`: one `batchOperation` request per distinct message (the item params without the
   *   `recipientFields`), carrying `recipients: [{…recipientFields}]`: SendGrid personalizations,
   *   Twilio Notify bindings;
   * - `items`: one `batchOperation` request to a generic batch endpoint (`batchEndpoint`
   *   operation of an `http` provider) with every item and a result per item;
   * - `fan-out`: one call per item, `concurrency` at a time, under the provider's rate limit.
   */
  mode: z.enum(['grouped', 'items', 'fan-out']),
  concurrency: z.number().int().positive().default(10),
  /** The operation a `grouped` or `items` flush is sent with. */
  batchOperation: z.string().optional(),
  /** `grouped` mode: the item params that differ per recipient. */
  recipientFields: z.array(z.string().min(1)).min(1).default(['to']),
  /**
   * The operations whose queued items this batching combines (absent: all of the provider's).
   * Items of any other operation are sent one call each: e.g. Sheets appends must not become
   * `values:batchUpdate` writes.
   */
  appliesTo: z.array(z.string().min(1)).min(1).optional(),
  /** Flushes per workflow run before it continues as new (keeps its history small). */
  flushesPerRun: z.number().int().positive().default(50),
  /**
   * Flush at the size the observed arrival rate fills within the priority's wait (items accepted
   * in the last wait period, 1 to maxSize): a trickle goes out at once, a burst fills up to
   * maxSize. false: always wait for maxSize or maxWaitMs.
   */
  adaptiveSize: z.boolean().default(true),
  /**
   * Flush early once the queued items' cost (their operation's costUsd each) reaches this many USD
   * (absent: no threshold). A flush still carries every queued item, up to maxSize.
   */
  costThresholdUsd: z.number().positive().optional(),
});

/**
 * How a probe carries the provider's credentials (fields of `credentials`), so that its answer also
 * says whether they are still accepted: `none` for a public endpoint, a bearer token, HTTP Basic,
 * query parameters, or OAuth2 client credentials (a token from `tokenPath`, then a bearer).
 */
const credentialField = z.string().min(1);
const probeAuthSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('none') }),
  z.object({ kind: z.literal('bearer'), token: credentialField }),
  z.object({ kind: z.literal('basic'), username: credentialField, password: credentialField }),
  z.object({ kind: z.literal('query'), params: z.record(z.string().min(1), credentialField) }),
  /** Header name → credential field, sent as is (Anthropic's `x-api-key`, Synthesia's bare `Authorization`). */
  z.object({ kind: z.literal('header'), headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/, 'a header name'), credentialField) }),
  z.object({ kind: z.literal('client-credentials'), tokenPath: z.string().startsWith('/'), clientId: credentialField, clientSecret: credentialField }),
]);

/**
 * Health probe (healthProbe workflow): up when answered below 500 within the timeout, except 429
 * (rate limited) and 401/403 (credentials refused); with `expectedStatus`, up only when answered
 * with one of those statuses (activities/probes.ts judgeProbeAnswer).
 */
const probeSchema = z.object({
  method: z.enum(['GET', 'HEAD']).default('GET'),
  path: z.string().startsWith('/').default('/'),
  auth: probeAuthSchema.default({ kind: 'none' }),
  /** The statuses that mean up (e.g. [200] for a status page, [204] for a ping); absent: the default judgement. */
  expectedStatus: z.array(z.number().int().min(100).max(599)).min(1).max(20).optional(),
  /** Fixed headers every probe sends (Anthropic's `anthropic-version`); never credentials (those go in `auth`). */
  headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/, 'a header name'), z.string().max(500)).optional(),
  /** How often the provider's Schedule runs healthProbe. */
  intervalSeconds: z.number().int().min(5).default(30),
  timeoutMs: z.number().int().positive().default(5000),
});

/** SLA thresholds the slaReport workflow compares each window against. */
const slaSchema = z.object({
  /** Fraction of successful probes, e.g. 0.999. */
  availability: z.number().gt(0).max(1).default(0.999),
  /** 95th percentile latency of probes and calls, in ms. */
  p95Ms: z.number().positive().default(2000),
  /** Fraction of failed real calls, e.g. 0.01. */
  errorRate: z.number().min(0).max(1).default(0.01),
});

/**
 * The provider's outbound HTTP pool (providers/core/http-pool.ts), per worker process: the
 * shared core keeps one keep-alive pool per provider with these limits; every connection still
 * goes through the outbound (SSRF) policy's connector.
 */
const httpPoolSchema = z.strictObject({
  /** Most TCP connections open at once per origin (requests beyond them queue). */
  connections: z.number().int().positive().max(1024).default(16),
  /** HTTP/1.1 requests sent on one connection before their answers arrive (1 = no pipelining). */
  pipelining: z.number().int().positive().max(100).default(1),
  /** How long an idle connection is kept for reuse (a server's shorter keep-alive hint wins). */
  keepAliveTimeoutMs: z.number().int().positive().max(600_000).default(10_000),
  /** Longest a connection may take to open (TCP + TLS), within the request's own timeoutMs. */
  connectTimeoutMs: z.number().int().positive().max(120_000).default(5_000),
  /** Offer HTTP/2 by ALPN over TLS; the provider picks (http/1.1 when it does not speak h2; plain http stays 1.1). */
  allowH2: z.boolean().default(false),
  /** The provider accepts `Content-Encoding: gzip` request bodies: bodies of at least gzipMinBytes are compressed. */
  gzipRequests: z.boolean().default(false),
  gzipMinBytes: z.number().int().nonnegative().default(1024),
});

const providerSchema = z.object({
  // A string here and a ProviderKind in ProviderConfig: the kinds come from the registration
  // list, whose folders' registry defaults are typed by this schema.
  kind: z.enum(registeredKinds()),
  baseUrl: z.string().url(),
  /**
   * Further hosts of the same provider by name (Twilio Notify lives on notify.twilio.com).
   * PROVIDER_<NAME>_<HOST>_BASE_URL overrides one; PROVIDER_<NAME>_BASE_URL overrides all that
   * have no override of their own (one fake serves every host in tests).
   */
  hosts: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/), z.string().url()).default({}),
  /** Credential field → name of the environment variable holding it. */
  credentials: z.record(z.string(), z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'an environment variable name')).default({}),
  timeoutMs: z.number().int().positive().default(10_000),
  /** Calls a second on the provider's task queue (default 10); or give `rateLimit`, not both. */
  rateLimitPerSecond: z.number().positive().optional(),
  /** The window form, e.g. `{requests: 100, windowSeconds: 60}`; becomes rateLimitPerSecond = requests / windowSeconds. */
  rateLimit: rateLimitWindowSchema.optional(),
  circuit: circuitSchema.default(circuitSchema.parse({})),
  budget: z.object({ dailyUsd: z.number().positive(), monthlyUsd: z.number().positive() }).nullable().default(null),
  failover: z
    .object({
      strategy: z.enum(['primary-secondary', 'weighted']),
      backups: z.array(name).min(1),
      /**
       * `weighted` only: each candidate's share of the calls while all are equally healthy, by
       * provider name (the primary or a backup; absent: 1). See activities/routing.ts.
       */
      weights: z.record(name, z.number().positive()).optional(),
    })
    .nullable()
    .default(null),
  operations: z.record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9]*$/), operationSchema),
  probe: probeSchema.default(probeSchema.parse({})),
  sla: slaSchema.default(slaSchema.parse({})),
  /** Warning and critical levels of response time, error rate and availability. */
  thresholds: thresholdsSchema.default(thresholdsSchema.parse({})),
  /** Batching of this provider's operations (absent: items are sent one call each). */
  batch: batchSchema.optional(),
  /** Outbound HTTP pool: connections, pipelining, keep-alive, connect timeout, HTTP/2, request gzip. */
  http: httpPoolSchema.default(httpPoolSchema.parse({})),
});

const registrySchema = z.object({
  providers: z.record(name, providerSchema),
});

/** One registry entry as written (defaults not filled in): what a provider folder declares. */
export type RegistryEntryInput = z.input<typeof providerSchema>;
export type OperationConfig = z.infer<typeof operationSchema>;
export type TokenPrice = z.infer<typeof tokenPriceSchema>;
export type CircuitConfig = z.infer<typeof circuitSchema>;
export type ProbeConfig = z.infer<typeof probeSchema>;
export type ProbeAuth = z.infer<typeof probeAuthSchema>;
export type SlaConfig = z.infer<typeof slaSchema>;
export type BatchConfig = z.infer<typeof batchSchema>;
export type HttpPoolConfig = z.infer<typeof httpPoolSchema>;
export type ThresholdsConfig = z.infer<typeof thresholdsSchema>;
export type RateLimitWindow = z.infer<typeof rateLimitWindowSchema>;
export type FailoverConfig = NonNullable<z.infer<typeof providerSchema>['failover']>;
/**
 * A parsed entry: both rate limit forms filled in (`rateLimit` is the window form as declared, or
 * `{requests: rateLimitPerSecond, windowSeconds: 1}`), the per-second one being what is enforced.
 */
export type ProviderConfig = Omit<z.infer<typeof providerSchema>, 'kind' | 'rateLimitPerSecond' | 'rateLimit'> & {
  kind: ProviderKind;
  name: string;
  rateLimitPerSecond: number;
  rateLimit: RateLimitWindow;
};

/** The rate limit used when an entry declares neither form. */
export const DEFAULT_RATE_LIMIT_PER_SECOND = 10;

/**
 * Both forms of an entry's rate limit. Temporal limits a task queue by a rate
 * (maxTaskQueueActivitiesPerSecond, enforced by the server across all workers), not by a fixed
 * window: N per W seconds becomes N / W a second, which never exceeds N in any W-second window but
 * does not allow a burst of N at once either.
 */
export function rateLimitOf(entry: { rateLimitPerSecond?: number; rateLimit?: RateLimitWindow }): { rateLimitPerSecond: number; rateLimit: RateLimitWindow } {
  if (entry.rateLimit) return { rateLimitPerSecond: entry.rateLimit.requests / entry.rateLimit.windowSeconds, rateLimit: entry.rateLimit };
  const perSecond = entry.rateLimitPerSecond ?? DEFAULT_RATE_LIMIT_PER_SECOND;
  return { rateLimitPerSecond: perSecond, rateLimit: { requests: perSecond, windowSeconds: 1 } };
}
export type ProviderRegistry = Readonly<Record<string, ProviderConfig>>;

/**
 * The provider named `name`, or undefined. Names come from paths, bodies and workflow inputs: only
 * the registry's own entries count, so "constructor" or "__proto__" is an unknown provider, not
 * Object.prototype's member.
 */
export function providerNamed(registry: ProviderRegistry, name: string): ProviderConfig | undefined {
  return Object.hasOwn(registry, name) ? registry[name] : undefined;
}

/** The provider's declared operation `name`, or undefined (own entries only, as providerNamed). */
export function operationNamed(provider: Pick<ProviderConfig, 'operations'>, name: string): OperationConfig | undefined {
  return Object.hasOwn(provider.operations, name) ? provider.operations[name] : undefined;
}

/**
 * The providers Switchyard calls: those with operations, each with its own task queue and worker.
 * A monitor-only entry (providers/monitor) is probed, never called, so nothing polls a queue for it.
 */
export function callableProviders(registry: ProviderRegistry): ProviderConfig[] {
  return Object.values(registry).filter((provider) => Object.keys(provider.operations).length > 0);
}

/** The declared cost of one call of `operation` on `provider`; 0 when either is unknown. */
export function operationCost(registry: ProviderRegistry, provider: string, operation: string): number {
  const config = providerNamed(registry, provider);
  return (config && operationNamed(config, operation)?.costUsd) ?? 0;
}

export class RegistryError extends Error {
  constructor(source: string, issues: string[]) {
    super(`invalid provider registry (${source}):\n  ${issues.join('\n  ')}`);
    this.name = 'RegistryError';
  }
}

export function baseUrlOverrideVariable(provider: string): string {
  return `PROVIDER_${provider.toUpperCase().replace(/-/g, '_')}_BASE_URL`;
}

/** Parses and cross-checks a registry document (failover backups exist and offer the operation). */
export function parseRegistry(document: unknown, env: NodeJS.ProcessEnv = {}, source = 'registry'): ProviderRegistry {
  const parsed = registrySchema.safeParse(document);
  if (!parsed.success) {
    throw new RegistryError(source, formatIssues(parsed.error));
  }
  const issues: string[] = [];
  const registry: Record<string, ProviderConfig> = {};
  for (const [providerName, config] of Object.entries(parsed.data.providers)) {
    const override = env[baseUrlOverrideVariable(providerName)];
    if (override !== undefined && !z.string().url().safeParse(override).success) {
      issues.push(`${baseUrlOverrideVariable(providerName)}: not a URL`);
    }
    const hosts: Record<string, string> = {};
    for (const [host, url] of Object.entries(config.hosts)) {
      const variable = baseUrlOverrideVariable(`${providerName}-${host}`);
      const hostOverride = env[variable];
      if (hostOverride !== undefined && !z.string().url().safeParse(hostOverride).success) issues.push(`${variable}: not a URL`);
      hosts[host] = hostOverride ?? override ?? url;
    }
    // Both may be given when they agree (a parsed entry written back, e.g. from GET /config).
    if (config.rateLimit && config.rateLimitPerSecond !== undefined && Math.abs(config.rateLimit.requests / config.rateLimit.windowSeconds - config.rateLimitPerSecond) > 1e-9) {
      issues.push(`providers.${providerName}: rateLimit and rateLimitPerSecond disagree; give one of them`);
    }
    registry[providerName] = {
      ...config,
      ...rateLimitOf(config),
      kind: config.kind as ProviderKind,
      name: providerName,
      baseUrl: override ?? config.baseUrl,
      hosts,
    };
    for (const [operation, op] of Object.entries(config.operations)) {
      if (config.kind === 'monitor') {
        issues.push(`providers.${providerName}.operations.${operation}: a monitor entry is probed only and declares no operations`);
      }
      if (config.kind === 'http' && (!op.method || !op.path)) {
        issues.push(`providers.${providerName}.operations.${operation}: http operations need method and path`);
      }
      if (op.staleIfErrorSeconds !== undefined && op.cacheTtlSeconds === undefined) {
        issues.push(`providers.${providerName}.operations.${operation}.staleIfErrorSeconds: needs cacheTtlSeconds (only cached reads can be answered stale)`);
      }
      if (op.batchEndpoint && (config.kind !== 'http' || op.method !== 'POST')) {
        issues.push(`providers.${providerName}.operations.${operation}: batchEndpoint needs an http provider and method POST`);
      }
    }
    const batchOperation = config.batch?.batchOperation;
    if (config.batch && config.batch.mode !== 'fan-out') {
      if (!batchOperation || !Object.hasOwn(config.operations, batchOperation)) {
        issues.push(`providers.${providerName}.batch.batchOperation: ${config.batch.mode} mode needs one of the provider's operations`);
      } else if (config.batch.mode === 'items' && !operationNamed(config, batchOperation)!.batchEndpoint) {
        issues.push(`providers.${providerName}.batch.batchOperation: items mode needs an operation with batchEndpoint: true`);
      }
    }
    for (const operation of config.batch?.appliesTo ?? []) {
      if (!Object.hasOwn(config.operations, operation)) issues.push(`providers.${providerName}.batch.appliesTo: unknown operation "${operation}"`);
    }
  }
  for (const config of Object.values(registry)) {
    const candidates = [config.name, ...(config.failover?.backups ?? [])];
    for (const weighed of Object.keys(config.failover?.weights ?? {})) {
      if (!candidates.includes(weighed)) issues.push(`providers.${config.name}.failover.weights: "${weighed}" is neither the provider nor one of its backups`);
    }
    for (const backup of config.failover?.backups ?? []) {
      const target = providerNamed(registry, backup);
      if (!target) {
        issues.push(`providers.${config.name}.failover.backups: unknown provider "${backup}"`);
        continue;
      }
      for (const [operation, op] of Object.entries(config.operations)) {
        if (op.failoverCapable && !operationNamed(target, operation)) {
          issues.push(`providers.${config.name}.operations.${operation}: backup "${backup}" has no such operation`);
        }
      }
    }
  }
  if (issues.length > 0) throw new RegistryError(source, issues);
  return registry;
}

export function loadRegistry(env: NodeJS.ProcessEnv = process.env): ProviderRegistry {
  const file = env.PROVIDERS_FILE;
  if (file === undefined) return parseRegistry(defaultRegistryDocument(), env, 'the registered providers\' defaults (providers/*/index.ts)');
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new RegistryError(file, [`cannot read: ${(err as Error).message}`]);
  }
  return parseRegistry(document, env, file);
}

export function providerTaskQueue(provider: string): string {
  return `provider-${provider}`;
}
