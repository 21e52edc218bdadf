/**
 * The worker's Prometheus metrics (prom-client): default process metrics and activity duration by
 * activity and outcome, recorded by an activity interceptor so no activity has to remember to; and
 * its start-up and readiness probes, served with them on WORKER_METRICS_PORT (lib/metrics-server.ts).
 */
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { Pool } from 'pg';
import { pendingMigrations } from '../db/migrate';
import { startupProbe, timedCheck } from '../lib/dependency-checks';
import type { MetricsServerOptions, ProbeAnswer } from '../lib/metrics-server';
import type { WorkerGroup } from './worker';

export interface WorkerMetrics {
  registry: Registry;
  activityDuration: Histogram<'activity' | 'outcome'>;
  /** The inbox drainer's processWebhook starts: started, existing (the run was there), failed (the row waits). */
  inboxStarts: Counter<'outcome'>;
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
    inboxStarts: (() => {
      const counter = new Counter({
        name: 'webhook_inbox_starts_total',
        help: 'processWebhook starts by the inbox drainer, by outcome (failed: the row stays in the inbox and is retried)',
        labelNames: ['outcome'],
        registers: [registry],
      });
      for (const outcome of ['started', 'existing', 'failed']) counter.inc({ outcome }, 0);
      return counter;
    })(),
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

/**
 * The worker's /startupz: 503 until start-up has finished once (every migration applied to
 * PostgreSQL, connected to Temporal and every worker of the group RUNNING, i.e. polling), then 200
 * for the life of the process; afterwards /readyz says whether it still polls. `group` is read at
 * each probe: undefined while the workers are being created (bundling, connecting).
 */
export function workerStartup(group: () => WorkerGroup | undefined, pool: Pick<Pool, 'query'>, timeoutMs = 2000): () => Promise<ProbeAnswer> {
  return startupProbe(async () => {
    const migrations = await timedCheck('PostgreSQL', timeoutMs, () => pendingMigrations(pool));
    const pending = migrations.value ?? [];
    const migrated = migrations.ok && pending.length === 0;
    const workers = workerReadiness(group());
    const polling = workers.ok;
    return {
      ok: migrated && polling,
      body: {
        status: migrated && polling ? 'started' : 'starting',
        checks: {
          migrations: { ok: migrated, ...(migrations.ok ? { pending } : { error: migrations.error }) },
          workers: { ok: polling, ...workers.body },
        },
      },
    };
  });
}

/**
 * The worker's probes on its metrics port, as workers/main.ts serves them and deploy/k8s/ and
 * docker-compose.yml call them: /healthz while the process runs, /readyz while every worker polls,
 * /startupz once migrated and polling.
 */
export function workerProbes(group: () => WorkerGroup | undefined, pool: Pick<Pool, 'query'>): NonNullable<MetricsServerOptions['probes']> {
  return {
    healthz: () => ({ ok: true, body: { status: 'ok' } }),
    readyz: () => workerReadiness(group()),
    startupz: workerStartup(group, pool),
  };
}
