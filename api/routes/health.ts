/**
 * Liveness, readiness and metrics. /healthz answers while the process runs; /readyz only when
 * both Temporal and PostgreSQL answer, so a load balancer stops sending webhooks we cannot accept.
 */
import { Router } from 'express';
import type { Pool } from 'pg';
import type { WorkflowClient } from '@temporalio/client';
import type { ApiMetrics } from '../metrics';

export interface HealthRouteDeps {
  workflows: WorkflowClient;
  pool: Pool;
  metrics: ApiMetrics;
  checkTimeoutMs?: number;
}

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

export function healthRoutes({ workflows, pool, metrics, checkTimeoutMs = 2000 }: HealthRouteDeps): Router {
  const router = Router();

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    const [temporal, postgres] = await Promise.all([
      check(() =>
        workflows.withDeadline(Date.now() + checkTimeoutMs, () => workflows.workflowService.getSystemInfo({})),
      ),
      check(() => withTimeout(pool.query('SELECT 1'), checkTimeoutMs, 'PostgreSQL')),
    ]);
    const ready = temporal.ok && postgres.ok;
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks: { temporal, postgres } });
  });

  router.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });

  return router;
}
