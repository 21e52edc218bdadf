/**
 * The worker's Prometheus metrics (prom-client): default process metrics and activity duration by
 * activity and outcome, recorded by an activity interceptor so no activity has to remember to; and
 * its readiness, served with them on WORKER_METRICS_PORT (lib/metrics-server.ts).
 */
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { ProbeAnswer } from '../lib/metrics-server';
import type { WorkerGroup } from './worker';

export interface WorkerMetrics {
  registry: Registry;
  activityDuration: Histogram<'activity' | 'outcome'>;
}

export function createWorkerMetrics(): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    activityDuration: new Histogram({
      name: 'activity_duration_seconds',
      help: 'Activity attempt duration by activity type and outcome',
      labelNames: ['activity', 'outcome'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
  };
}

export function activityMetricsInterceptor(metrics: WorkerMetrics): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        const end = metrics.activityDuration.startTimer({ activity: ctx.info.activityType });
        try {
          const result = await next(input);
          end({ outcome: 'success' });
          return result;
        } catch (err) {
          end({ outcome: 'failure' });
          throw err;
        }
      },
    },
  });
}

/**
 * The worker's /readyz: ready while every worker of the group is RUNNING, i.e. polling its task
 * queue (before the group exists, while it drains and after it stopped or failed: not ready).
 */
export function workerReadiness(group: WorkerGroup | undefined): ProbeAnswer {
  if (!group) return { ok: false, body: { status: 'starting' } };
  const workers = group.workers.map((w) => ({ taskQueue: w.options.taskQueue, state: w.getState() }));
  const ok = workers.every((w) => w.state === 'RUNNING');
  return { ok, body: { status: ok ? 'ready' : 'not_ready', workers } };
}
