/**
 * Worker factory: the main worker (every workflow, and the local activities they run) on the main
 * task queue, plus one worker per provider on `provider-{name}` running that provider's calls
 * with the registry's rate limit as `maxTaskQueueActivitiesPerSecond`, which the server enforces
 * across all workers. Used by the worker process and by the integration tests (same wiring).
 */
import { writeFileSync } from 'node:fs';
import { bundleWorkflowCode, type ActivityInterceptorsFactory, type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Duration } from '@temporalio/common';
import type { Pool } from 'pg';
import { createActivities } from '../activities';
import type { Keyring } from '../lib/security/keyring';
import { payloadDataConverter } from '../lib/security/payload-codec';
import { strictOutboundPolicy, type OutboundPolicy } from '../lib/security/outbound-policy';
import { callableProviders, type ProviderRegistry } from '../lib/config/registry';
import { activityMetricsInterceptor, type WorkerMetrics } from './metrics';
import { createLogger } from '../lib/logger';
import { PinoSdkLogger } from './sdk-logger';

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  pool: Pool;
  registry: ProviderRegistry;
  /** Where provider credentials are read from; process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** Provider task queues are `${prefix}${provider}`. */
  providerTaskQueuePrefix: string;
  /** Overrides the policy table's delivery retry schedule. */
  deliveryRetrySchedule?: readonly Duration[];
  metrics?: WorkerMetrics;
  /** A pre-built bundle (tests build one per file); otherwise workflows/ is bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Replace activities (tests of failure paths); defaults to the real ones. */
  activities?: Partial<ReturnType<typeof createActivities>>;
  /**
   * After shutdown(), how long running activities may take to finish before they are cancelled
   * (the worker process passes SHUTDOWN_GRACE_MS). Unset: the SDK's default, cancel at once.
   */
  shutdownGraceMs?: number;
  /**
   * Which addresses provider calls and subscriber deliveries may reach (the worker process passes
   * OUTBOUND_ALLOW / OUTBOUND_ALLOW_HTTP); default: the strict policy. The registry's base URLs
   * are checked against it at start.
   */
  outboundPolicy?: OutboundPolicy;
  /** PAYLOAD_ENCRYPTION_KEYS: every payload to and from the server goes through the AES-GCM codec. */
  payloadKeys?: Keyring;
  /**
   * WORKER_MAX_CACHED_WORKFLOWS: the main worker's sticky cache. 0 replays every activation from
   * the start of its history (the determinism check CI runs the integration suite with); unset:
   * the SDK's default.
   */
  maxCachedWorkflows?: number;
  /** More activity interceptors, after the metrics one (tests slow local activities down with one). */
  activityInterceptors?: ActivityInterceptorsFactory[];
}

export interface WorkerGroup {
  workers: Worker[];
  /**
   * Runs every worker; resolves once all have shut down. When one fails, the others are shut
   * down too, and it rejects with the first error after all have stopped.
   */
  run(): Promise<void>;
  /** Stops polling on every worker; running tasks drain (up to `shutdownGraceMs`), then run() settles. */
  shutdown(): void;
}

/** Heartbeats reach the server at least this often (default: 0.8 × the heartbeat timeout, too little slack on a busy host). */
const HEARTBEAT_THROTTLE = '2 seconds';
/** How long past the grace time a stuck shutdown may take before run() gives up with an error. */
const SHUTDOWN_FORCE_MARGIN_MS = 5_000;

export const workflowsPath = require.resolve('../workflows');
/** Loaded in the workflow sandbox and the worker when payloads are encrypted (workflows/failure-converter.ts). */
export const failureConverterPath = require.resolve('../workflows/failure-converter');

/**
 * The workflow bundle an encrypting worker makes at start (webpack over workflows/, with its
 * failure converter; webpack's own messages at warn), made beforehand: by `npm run
 * bundle:workflows` for WORKFLOW_BUNDLE_PATH, and once per jest run and fault-suite run for the tests.
 */
export function bundleWorkflows(): Promise<{ code: string }> {
  return bundleWorkflowCode({ workflowsPath, failureConverterPath, logger: new PinoSdkLogger(createLogger('bundler', 'warn')) });
}

/** Writes the workflow bundle to `file`, for WORKFLOW_BUNDLE_PATH; returns its size in bytes. */
export async function writeWorkflowBundle(file: string): Promise<number> {
  const { code } = await bundleWorkflows();
  writeFileSync(file, code);
  return code.length;
}

/**
 * A worker's data converter: with PAYLOAD_ENCRYPTION_KEYS, the payload codec plus the failure
 * converter that moves error messages and stack traces into (sealed) payloads. A prebuilt
 * workflow bundle must be made with the same `failureConverterPath`.
 */
export function workerDataConverter(payloadKeys: Keyring | undefined): WorkerOptions['dataConverter'] {
  const codec = payloadDataConverter(payloadKeys);
  return codec && { ...codec, failureConverterPath };
}

/** The registry's provider URLs the policy refuses, one line each (empty: all may be called). */
export function refusedProviderUrls(registry: ProviderRegistry, policy: OutboundPolicy): string[] {
  const problems: string[] = [];
  for (const provider of Object.values(registry)) {
    const urls: [string, string][] = [['baseUrl', provider.baseUrl], ...Object.entries(provider.hosts).map(([host, url]): [string, string] => [`hosts.${host}`, url])];
    for (const [field, url] of urls) {
      const refusal = policy.checkUrl(url);
      if (refusal) problems.push(`providers.${provider.name}.${field} (${url}): ${refusal}`);
    }
  }
  return problems;
}

export async function createWorkers(options: CreateWorkerOptions): Promise<WorkerGroup> {
  const outbound = options.outboundPolicy ?? strictOutboundPolicy;
  // Generic providers' base URLs come from configuration: one pointing at a refused address stops the worker here.
  const refused = refusedProviderUrls(options.registry, outbound);
  if (refused.length > 0) throw new Error(`provider URLs refused by the outbound policy (OUTBOUND_ALLOW, OUTBOUND_ALLOW_HTTP):\n  ${refused.join('\n  ')}`);
  const activities = {
    ...createActivities({
      pool: options.pool,
      registry: options.registry,
      env: options.env ?? process.env,
      providerTaskQueuePrefix: options.providerTaskQueuePrefix,
      deliveryRetrySchedule: options.deliveryRetrySchedule,
      outbound,
    }),
    ...options.activities,
  };
  const dataConverter = workerDataConverter(options.payloadKeys);
  const activityInterceptors = [...(options.metrics ? [activityMetricsInterceptor(options.metrics)] : []), ...(options.activityInterceptors ?? [])];
  const interceptors = activityInterceptors.length > 0 ? { activity: activityInterceptors } : undefined;
  const shutdown: Pick<WorkerOptions, 'shutdownGraceTime' | 'shutdownForceTime'> =
    options.shutdownGraceMs === undefined
      ? {}
      : { shutdownGraceTime: options.shutdownGraceMs, shutdownForceTime: options.shutdownGraceMs + SHUTDOWN_FORCE_MARGIN_MS };
  const main = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath }),
    activities,
    interceptors,
    dataConverter,
    maxHeartbeatThrottleInterval: HEARTBEAT_THROTTLE,
    ...(options.maxCachedWorkflows === undefined ? {} : { maxCachedWorkflows: options.maxCachedWorkflows }),
    ...shutdown,
  });
  const callable = callableProviders(options.registry);
  const providerWorkers = await Promise.all(
    callable.map((provider) =>
      Worker.create({
        connection: options.connection,
        namespace: options.namespace,
        taskQueue: `${options.providerTaskQueuePrefix}${provider.name}`,
        activities: { callProvider: activities.callProvider, compensateProviderCall: activities.compensateProviderCall },
        maxTaskQueueActivitiesPerSecond: provider.rateLimitPerSecond,
        interceptors,
        dataConverter,
        maxHeartbeatThrottleInterval: HEARTBEAT_THROTTLE,
        ...shutdown,
      }),
    ),
  );
  const workers = [main, ...providerWorkers];
  const shutdownAll = (): void => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  };
  return {
    workers,
    async run() {
      const results = await Promise.allSettled(
        workers.map((w) =>
          w.run().catch((err: unknown) => {
            shutdownAll(); // one worker failing stops the group: the process must not half-run
            throw err;
          }),
        ),
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
    shutdown: shutdownAll,
  };
}
