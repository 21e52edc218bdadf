/**
 * Provider state for services and operators: budget use per provider and period, circuit breaker
 * states, and cache invalidation by key prefix (scoped to the caller's tenant).
 */
import { Router, type Request, type Response } from 'express';
import type { Pool } from 'pg';
import { BUDGET_ALERT_THRESHOLDS, BUDGET_REFUSAL_THRESHOLD, createBudgets } from '../../activities/budgets';
import { createProviderCache } from '../../activities/cache';
import { createCircuitBreaker } from '../../activities/circuit-breaker';
import type { Config } from '../../lib/config';
import type { ProviderRegistry } from '../../lib/registry';
import { noteAudit } from '../audit';
import { cachePrefixQuery } from '../schemas';
import { sendError } from '../errors';
import { requireTenant } from '../tenant';
import { exportCircuitStates, type ApiMetrics } from '../metrics';

export interface ProviderRouteDeps {
  config: Config;
  pool: Pool;
  registry: ProviderRegistry;
  metrics: ApiMetrics;
}

export function providerRoutes({ config, pool, registry, metrics }: ProviderRouteDeps): Router {
  const router = Router({ mergeParams: true });
  const budgets = createBudgets(pool, registry);
  const breaker = createCircuitBreaker(pool, registry);
  const cache = createProviderCache(pool);
  exportCircuitStates(metrics, () => breaker.list());

  router.get('/budgets', async (_req: Request, res: Response) => {
    // The warning lines (budget_alerts are raised at each) and the refusal line, for dashboards.
    res.json({ budgets: await budgets.usage(), thresholds: [...BUDGET_ALERT_THRESHOLDS], refusalPercent: BUDGET_REFUSAL_THRESHOLD * 100 });
  });

  router.get('/circuits', async (_req: Request, res: Response) => {
    res.json({ circuits: await breaker.list() });
  });

  router.delete('/cache', async (req: Request, res: Response) => {
    const parsed = cachePrefixQuery.safeParse(req.query);
    if (!parsed.success) {
      sendError(res, 400, 'invalid_request', '?prefix= is required', { prefix: 'required' });
      return;
    }
    const tenant = requireTenant(req, res, config);
    if (!tenant) return;
    // Keys are `{tenant}:{provider}:{operation}:{params}`; a caller only ever reaches its own tenant.
    const prefix = `${tenant}:${parsed.data.prefix}`;
    const removed = await cache.invalidatePrefix(prefix);
    noteAudit(res, { target: prefix, detail: { removed } });
    res.json({ prefix, removed });
  });

  return router;
}
