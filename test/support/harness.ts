/**
 * Test harness for integration tests: the real worker wiring and the real API app against the dev
 * server and test database set up by global-setup.ts. Each test file gets its own task queue.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Express } from 'express';
import { Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { Pool } from 'pg';
import Stripe from 'stripe';
import { createApp } from '../../api/app';
import { createApiKey, type Role } from '../../lib/security/api-keys';
import { createWebhookSecrets } from '../../api/webhook-secrets';
import { loadWebhookSources, type WebhookSources } from '../../api/webhook-sources';
import { createApiMetrics, type ApiMetrics } from '../../api/metrics';
import { metricsServerUrl, serveMetrics } from '../../lib/metrics-server';
import { WorkflowStarter } from '../../lib/temporal/workflow-starter';
import { loadConfig, tenantPattern, type Config } from '../../lib/config/config';
import { outboundPolicyOf } from '../../lib/security/outbound-policy';
import { payloadDataConverter } from '../../lib/security/payload-codec';
import { createPool } from '../../lib/data/db';
import { createLogger } from '../../lib/logger';
import { fakeCredentials } from '../fakes/credentials';
import { startFakeProviders, type FakeProviders } from '../fakes/provider-server';
import { baseUrlOverrideVariable, loadRegistry, type ProviderConfig, type ProviderRegistry } from '../../lib/config/registry';
import { drainInbox } from '../../workers/inbox-drainer';
import { createWorkers, type CreateWorkerOptions, type WorkerGroup } from '../../workers/worker';
import { workflowBundle } from './workflow-bundle';

// Worker state chatter off; warnings and errors (e.g. a failing workflow task) still show.
Runtime.install({ logger: new DefaultLogger('WARN') });

export const TEST_STRIPE_SECRET = 'whsec_test_switchyard_primary';

export function testConfig(overrides: Partial<Config> = {}): Config {
  const id = randomUUID();
  return loadConfig(process.env, {
    TEMPORAL_TASK_QUEUE: `test-${id}`,
    PROVIDER_TASK_QUEUE_PREFIX: `test-${id}-provider-`,
    DEFAULT_TENANT: `t${randomUUID().slice(0, 8)}`,
    LOG_LEVEL: 'silent',
    // The fakes and test receivers listen on loopback over plain http (tests of the policy set their own).
    OUTBOUND_ALLOW: ['127.0.0.1', '::1'],
    OUTBOUND_ALLOW_HTTP: true,
    ...overrides,
  });
}

export function testPool(): Pool {
  return createPool(process.env.DATABASE_URL!);
}

export { fakeCredentials };

/** The real registry with every base URL pointed at a fake server (and optional changes). */
export function registryAt(url: string, change: (registry: Record<string, ProviderConfig>) => void = () => undefined): ProviderRegistry {
  const env = Object.fromEntries(Object.keys(loadRegistry()).map((name) => [baseUrlOverrideVariable(name), url]));
  const registry = structuredClone(loadRegistry(env)) as Record<string, ProviderConfig>;
  change(registry);
  return registry;
}

export interface RunningWorker {
  workers: WorkerGroup;
  stop(): Promise<void>;
}

export interface WorkerSetup {
  registry?: ProviderRegistry;
  env?: NodeJS.ProcessEnv;
  activities?: CreateWorkerOptions['activities'];
  deliveryRetrySchedule?: CreateWorkerOptions['deliveryRetrySchedule'];
  activityInterceptors?: CreateWorkerOptions['activityInterceptors'];
  /** false: no inbox drainer beside the worker (webhooks then wait in the inbox). Default: one, as the worker process runs. */
  drainInbox?: boolean;
}

export async function startWorker(config: Config, pool: Pool, setup: WorkerSetup = {}): Promise<RunningWorker> {
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const workers = await createWorkers({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    pool,
    registry: setup.registry ?? {},
    env: setup.env ?? fakeCredentials,
    providerTaskQueuePrefix: config.PROVIDER_TASK_QUEUE_PREFIX,
    deliveryRetrySchedule: setup.deliveryRetrySchedule,
    workflowBundle: await workflowBundle(),
    activities: setup.activities,
    outboundPolicy: outboundPolicyOf(config),
    payloadKeys: config.PAYLOAD_ENCRYPTION_KEYS,
    // CI's cache-off step sets WORKER_MAX_CACHED_WORKFLOWS=0: every activation replays the history.
    maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
    activityInterceptors: setup.activityInterceptors,
  });
  const running = workers.run();
  const drainer = setup.drainInbox === false ? undefined : drainInbox({ config, pool, logger: createLogger('inbox-drainer-test', 'silent') });
  return {
    workers,
    async stop() {
      await drainer?.stop();
      workers.shutdown();
      await running;
      await connection.close();
    },
  };
}

export interface RunningApi {
  url: string;
  /** The Express app itself (its routes can be inspected). */
  app: Express;
  workflows: WorkflowStarter;
  metrics: ApiMetrics;
  /** The API's metrics port (127.0.0.1, as api/server.ts serves it by default): `${metricsUrl}/metrics`. */
  metricsUrl: string;
  /** GET /metrics on the metrics port, as Prometheus scrapes it. */
  scrapeMetrics(): Promise<string>;
  /**
   * fetch(`${url}${path}`) as an admin of the config's default tenant, or of `<t>` for
   * `/tenants/<t>/…` paths; a request that sets Authorization or X-API-Key itself is sent as is.
   */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** A new API key (a real one, in PostgreSQL) with this role, for the default tenant or `tenant`. */
  keyFor(role: Role, tenant?: string): Promise<string>;
  close(): Promise<void>;
}

export interface ApiSetup {
  /** Environment the webhook secrets come from (default: the test Stripe secret for the default tenant). */
  secretsEnv?: NodeJS.ProcessEnv;
  secretsFile?: string;
  /** The webhook sources (default: the registered providers'). */
  webhookSources?: WebhookSources;
}

/** decodeURIComponent, or '' for malformed percent-encoding. */
function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return '';
  }
}

export async function startApi(config: Config, pool: Pool, registry: ProviderRegistry = {}, setup: ApiSetup = {}): Promise<RunningApi> {
  const webhookSecrets = createWebhookSecrets({
    file: setup.secretsFile,
    env: setup.secretsEnv ?? { STRIPE_WEBHOOK_SECRETS: TEST_STRIPE_SECRET },
    defaultTenant: config.DEFAULT_TENANT,
    onError: (err) => {
      throw err;
    },
  });
  const connection = Connection.lazy({ address: config.TEMPORAL_ADDRESS });
  const workflows = new WorkflowStarter({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter: payloadDataConverter(config.PAYLOAD_ENCRYPTION_KEYS) });
  const metrics = createApiMetrics();
  const app = createApp({
    config,
    workflows,
    pool,
    registry,
    webhookSources: setup.webhookSources ?? loadWebhookSources(),
    webhookSecrets,
    metrics,
    logger: createLogger('api-test', 'silent'),
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const metricsServer = await serveMetrics({ registry: metrics.registry, port: 0 });
  const metricsUrl = metricsServerUrl(metricsServer);
  const keyFor = async (role: Role, tenant = config.DEFAULT_TENANT) => (await createApiKey(pool, { tenant, role, name: `test ${role}` })).key;
  const adminKeys = new Map<string, Promise<string>>();
  return {
    url,
    app,
    workflows,
    metrics,
    metricsUrl,
    async scrapeMetrics() {
      return (await fetch(`${metricsUrl}/metrics`)).text();
    },
    keyFor,
    fetch(path, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has('authorization') && !headers.has('x-api-key')) {
        const named = /^\/tenants\/([^/?]+)/.exec(path)?.[1];
        // A path naming no valid tenant (answered 400 before any credential matters) goes with the default tenant's key.
        const tenant = named !== undefined && tenantPattern.test(safeDecode(named)) ? safeDecode(named) : config.DEFAULT_TENANT;
        if (!adminKeys.has(tenant)) adminKeys.set(tenant, keyFor('admin', tenant));
        return adminKeys.get(tenant)!.then((key) => {
          headers.set('authorization', `Bearer ${key}`);
          return fetch(`${url}${path}`, { ...init, headers });
        });
      }
      return fetch(`${url}${path}`, init);
    },
    async close() {
      // As the API process stops (api/server.ts): requests in flight finish before the Temporal
      // connection closes. Closed under them, a call the SDK was retrying fires on a closed
      // channel from a timer ("Channel has been shut down"), which fails the suite.
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeIdleConnections();
      const late = setTimeout(() => server.closeAllConnections(), 5000);
      await closed;
      clearTimeout(late);
      metricsServer.closeAllConnections();
      await new Promise((resolve) => metricsServer.close(resolve));
      await connection.close();
    },
  };
}

/** A booking as a caller sends it to POST /bookings (no tenant, default payment provider). */
export const sampleBooking = {
  amount: 4200,
  currency: 'usd',
  calendarId: 'primary',
  summary: 'Haircut',
  start: '2026-12-02T10:00:00Z',
  end: '2026-12-02T10:30:00Z',
  phone: '+14155550100',
  email: 'guest@example.com',
};

/** A Stripe event body as Stripe sends it (the fields Switchyard reads, plus the envelope). */
/** A whole test stack: the test database pool, fake providers, a worker and the API on one configuration. */
export interface TestStack {
  pool: Pool;
  fakes: FakeProviders;
  config: Config;
  /** The real registry pointed at the fakes, with the test's changes. */
  registry: ProviderRegistry;
  worker: RunningWorker;
  api: RunningApi;
  /** Stops what started, in reverse order (safe after a partial start). */
  close(): Promise<void>;
}

/** What startStack has made by the time it starts the worker. */
export type StackSoFar = Pick<TestStack, 'pool' | 'fakes' | 'config' | 'registry'>;

export interface StackSetup {
  config?: Partial<Config>;
  /** Changes to the registry (clones under per-run names, tighter circuits, …). */
  registry?: (registry: Record<string, ProviderConfig>) => void;
  /** Or a function of what started before, when the setup needs it (a key file trusted by the fakes, …). */
  worker?: Omit<WorkerSetup, 'registry'> | ((stack: StackSoFar) => Omit<WorkerSetup, 'registry'>);
  /** Or a function of what started before (a secrets file naming the config's tenant, …). */
  api?: ApiSetup | ((stack: StackSoFar) => ApiSetup);
}

/**
 * The usual integration-test set-up in one call, for `beforeAll`; `close()` for `afterAll`.
 *   beforeAll(async () => ({ pool, fakes, config, registry, worker, api } = stack = await startStack({ … })));
 *   afterAll(() => stack?.close());
 */
export async function startStack(setup: StackSetup = {}): Promise<TestStack> {
  const stops: Array<() => Promise<unknown>> = [];
  const close = async (): Promise<void> => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    stops.length = 0;
  };
  try {
    const pool = testPool();
    stops.push(() => pool.end());
    const fakes = await startFakeProviders();
    stops.push(() => fakes.close());
    const config = testConfig(setup.config);
    const registry = registryAt(fakes.url, setup.registry);
    const soFar: StackSoFar = { pool, fakes, config, registry };
    const workerSetup = typeof setup.worker === 'function' ? setup.worker(soFar) : setup.worker;
    const worker = await startWorker(config, pool, { ...workerSetup, registry });
    stops.push(() => worker.stop());
    const api = await startApi(config, pool, registry, typeof setup.api === 'function' ? setup.api(soFar) : setup.api);
    stops.push(() => api.close());
    return { pool, fakes, config, registry, worker, api, close };
  } catch (err) {
    await close();
    throw err;
  }
}

export function stripeEvent(
  type = 'payment_intent.succeeded',
  overrides: { id?: string; object?: Record<string, unknown> } = {},
): Record<string, unknown> {
  const id = overrides.id ?? `evt_${randomUUID().replace(/-/g, '')}`;
  return {
    id,
    object: 'event',
    api_version: '2025-01-27',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    type,
    data: {
      object: overrides.object ?? {
        id: `pi_${randomUUID().replace(/-/g, '').slice(0, 24)}`,
        object: 'payment_intent',
        amount: 2000,
        amount_received: 2000,
        currency: 'usd',
        status: 'succeeded',
        customer: 'cus_test',
      },
    },
  };
}

/** A Stripe-Signature header made by the official library. */
export function signStripe(payload: string, secret = TEST_STRIPE_SECRET, timestamp?: number): string {
  return Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });
}

export async function postWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${url}/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

export async function postStripe(url: string, event: Record<string, unknown>): Promise<{ status: number; json: Record<string, unknown> }> {
  const body = JSON.stringify(event);
  return postWebhook(url, body, { 'stripe-signature': signStripe(body) });
}

/**
 * How much longer waits are in CI's cache-off step (WORKER_MAX_CACHED_WORKFLOWS=0): there the SDK
 * loses a workflow task's completion whenever a local activity is in flight at an eviction, and the
 * server retries it only at the task timeout (scripts/test-cache-off.sh), so work is slower, never
 * different. A wait that holds returns as soon as its condition does; only a failure takes longer.
 */
export const waitScale = process.env.WORKER_MAX_CACHED_WORKFLOWS === '0' ? 3 : 1;

/** Polls until `check` returns a value, or fails after `timeoutMs` (times `waitScale`). */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs * waitScale;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`condition not met within ${timeoutMs * waitScale} ms${last instanceof Error ? `: ${last.message}` : ''}`);
}
