/**
 * Liveness, start-up and readiness. /healthz answers while the process runs. /startupz is 503 until
 * start-up has finished once (every migration of db/migrations applied to PostgreSQL, Temporal's
 * frontend answering for the namespace), then 200 for the life of the process: an orchestrator
 * holds liveness and readiness back until then (deploy/k8s/). /readyz is 503 when PostgreSQL does
 * not answer, so a load balancer stops sending webhooks we cannot accept. Temporal unreachable and
 * no worker polling the main task queue are reported but only make the API `degraded` (still
 * 200): webhooks are committed to the inbox in PostgreSQL and started once Temporal and a worker
 * are back, so taking the API out of the balancer would only turn providers' deliveries into
 * retries. The inbox's backlog never makes the API unready: it drains on its own.
 * GET /health/detailed (api/routes/health-detailed.ts) names every dependency with its latency.
 * Metrics are not here: they are on API_METRICS_PORT (api/server.ts, lib/metrics-server.ts).
 */
import { Router } from 'express';
import type { Pool } from 'pg';
import type { WorkflowClient } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import type { Config } from '../../lib/config/config';
import { pingDatabase } from '../../lib/data/db';
import { startupProbe, timedCheck } from '../../lib/dependency-checks';
import { pendingMigrations } from '../../db/migrate';

export interface HealthRouteDeps {
  config: Pick<Config, 'TEMPORAL_NAMESPACE' | 'TEMPORAL_TASK_QUEUE'>;
  workflows: WorkflowClient;
  pool: Pool;
  checkTimeoutMs?: number;
  /** How long one answer about the workers is reused (describeTaskQueue is not for every probe). */
  workerCheckCacheMs?: number;
}

/**
 * A poller the server saw within this long still polls: an idle worker's long poll is renewed
 * every 60 s (its last access was up to 60 s old on the dev server), while the server keeps
 * listing a poller for minutes after it stopped. So a stopped worker shows within 90 s.
 */
export const POLLER_FRESH_MS = 90_000;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function check(run: () => Promise<unknown>): Promise<{ ok: boolean; error?: string }> {
  try {
    await run();
    return { ok: true };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

export interface WorkerCheck {
  ok: boolean;
  status: 'polling' | 'none polling' | 'unknown';
  taskQueue: string;
  /** Workers that polled the main task queue within POLLER_FRESH_MS. */
  pollers?: number;
  checkedAt: string;
  error?: string;
}

export function healthRoutes({ config, workflows, pool, checkTimeoutMs = 2000, workerCheckCacheMs = 5000 }: HealthRouteDeps): Router {
  const router = Router();
  const taskQueue = config.TEMPORAL_TASK_QUEUE;

  async function checkWorkers(): Promise<WorkerCheck> {
    const checkedAt = new Date().toISOString();
    try {
      const { pollers } = await workflows.withDeadline(Date.now() + checkTimeoutMs, () =>
        workflows.workflowService.describeTaskQueue({
          namespace: config.TEMPORAL_NAMESPACE,
          taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
          taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        }),
      );
      const since = Date.now() - POLLER_FRESH_MS;
      const live = pollers.filter((p) => (optionalTsToMs(p.lastAccessTime) ?? 0) >= since).length;
      return { ok: live > 0, status: live > 0 ? 'polling' : 'none polling', taskQueue, pollers: live, checkedAt };
    } catch (err) {
      return { ok: false, status: 'unknown', taskQueue, checkedAt, error: err instanceof Error ? err.message : String(err) };
    }
  }

  let cachedWorkers: { at: number; answer: Promise<WorkerCheck> } | undefined;
  function workers(): Promise<WorkerCheck> {
    if (!cachedWorkers || Date.now() - cachedWorkers.at >= workerCheckCacheMs) cachedWorkers = { at: Date.now(), answer: checkWorkers() };
    return cachedWorkers.answer;
  }

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  // Once it has passed, the answer is kept: start-up happens once (lib/dependency-checks.ts).
  const startup = startupProbe(async () => {
    const [migrations, temporalCheck] = await Promise.all([
      timedCheck('PostgreSQL', checkTimeoutMs, () => pendingMigrations(pool)),
      timedCheck('Temporal', checkTimeoutMs, () =>
        workflows.withDeadline(Date.now() + checkTimeoutMs, () => workflows.workflowService.describeNamespace({ namespace: config.TEMPORAL_NAMESPACE })),
      ),
    ]);
    const pending = migrations.value ?? [];
    const migrated = migrations.ok && pending.length === 0;
    const body = {
      status: migrated && temporalCheck.ok ? 'started' : 'starting',
      checks: {
        migrations: { ok: migrated, ...(migrations.ok ? { pending } : { error: migrations.error }) },
        temporal: { ok: temporalCheck.ok, namespace: config.TEMPORAL_NAMESPACE, ...(temporalCheck.error ? { error: temporalCheck.error } : {}) },
      },
    };
    return { ok: migrated && temporalCheck.ok, body };
  });
  router.get('/startupz', async (_req, res) => {
    const answer = await startup();
    res.status(answer.ok ? 200 : 503).json(answer.body);
  });

  router.get('/readyz', async (_req, res) => {
    const [temporalCheck, postgres, worker] = await Promise.all([
      check(() => workflows.withDeadline(Date.now() + checkTimeoutMs, () => workflows.workflowService.getSystemInfo({}))),
      check(() => withTimeout(pingDatabase(pool), checkTimeoutMs, 'PostgreSQL')),
      workers(),
    ]);
    const ready = postgres.ok;
    const status = !ready ? 'not_ready' : temporalCheck.ok && worker.ok ? 'ready' : 'degraded';
    res.status(ready ? 200 : 503).json({ status, worker: worker.status, checks: { temporal: temporalCheck, postgres, worker } });
  });

  return router;
}
