/**
 * Worker factory: the main worker (every workflow, and the local activities they run) on the main
 * task queue, plus one worker per provider on `provider-{name}` running that provider's calls
 * with the registry's rate limit as `maxTaskQueueActivitiesPerSecond`, which the server enforces
 * across all workers. Used by the worker process and by the integration tests (same wiring).
 */
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Duration } from '@temporalio/common';
import type { Pool } from 'pg';
import { createActivities } from '../activities';
import type { ProviderRegistry } from '../lib/registry';
import { activityMetricsInterceptor, type WorkerMetrics } from './metrics';

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
}

export interface WorkerGroup {
  workers: Worker[];
  /** Runs every worker; resolves once all have shut down. */
  run(): Promise<void>;
  shutdown(): void;
}

export const workflowsPath = require.resolve('../workflows');

export async function createWorkers(options: CreateWorkerOptions): Promise<WorkerGroup> {
  const activities = {
    ...createActivities({
      pool: options.pool,
      registry: options.registry,
      env: options.env ?? process.env,
      providerTaskQueuePrefix: options.providerTaskQueuePrefix,
      deliveryRetrySchedule: options.deliveryRetrySchedule,
    }),
    ...options.activities,
  };
  const interceptors = options.metrics ? { activity: [activityMetricsInterceptor(options.metrics)] } : undefined;
  const main = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath }),
    activities,
    interceptors,
  });
  const providerWorkers = await Promise.all(
    Object.values(options.registry).map((provider) =>
      Worker.create({
        connection: options.connection,
        namespace: options.namespace,
        taskQueue: `${options.providerTaskQueuePrefix}${provider.name}`,
        activities: { callProvider: activities.callProvider, compensateProviderCall: activities.compensateProviderCall },
        maxTaskQueueActivitiesPerSecond: provider.rateLimitPerSecond,
        interceptors,
      }),
    ),
  );
  const workers = [main, ...providerWorkers];
  return {
    workers,
    async run() {
      await Promise.all(workers.map((w) => w.run()));
    },
    shutdown() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    },
  };
}
