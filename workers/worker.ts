/**
 * Worker factory: registers every workflow and activity on the webhook task queue. Used by the
 * worker process and by the integration tests (same wiring, real server).
 */
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Pool } from 'pg';
import { createActivities } from '../activities';
import { activityMetricsInterceptor, type WorkerMetrics } from './metrics';

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  pool: Pool;
  metrics?: WorkerMetrics;
  /** A pre-built bundle (tests build one per file); otherwise workflows/ is bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Replace activities (tests of failure paths); defaults to the real ones. */
  activities?: Partial<ReturnType<typeof createActivities>>;
}

export const workflowsPath = require.resolve('../workflows');

export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  const activities = { ...createActivities({ pool: options.pool }), ...options.activities };
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath }),
    activities,
    interceptors: options.metrics ? { activity: [activityMetricsInterceptor(options.metrics)] } : undefined,
  });
}
