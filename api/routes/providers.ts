/**
 * Provider state for services and operators: budget use per provider and period with the
 * month-end projection and the cost anomaly rule's figures (lib/data/budgets.ts; also as metrics),
 * circuit breaker states, and cache invalidation by key prefix (scoped to the caller's tenant).
 */
import type { Request, Response } from 'express';
import type { Pool } from 'pg';
import { Gauge } from 'prom-client';
import {
  BUDGET_ALERT_THRESHOLDS,
  BUDGET_REFUSAL_THRESHOLD,
  createBudgets,
  createCostReports,
  type CostReports,
} from '../../lib/data/budgets';
import { createProviderCache } from '../../lib/data/provider-cache';
import { createCircuitBreaker } from '../../lib/data/circuits';
import type { Config } from '../../lib/config/config';
import { loadCostAnomalySettings, type CostAnomalySettings } from '../../lib/config/monitoring-config';
import type { ProviderRegistry } from '../../lib/config/registry';
import { noteAudit } from '../audit-middleware';
import { answer, defineRoute, failure, routeGroup } from '../route';
import * as s from '../schemas';
import { cachePrefixQuery } from '../schemas';
import { sendError } from '../errors';
import { requireTenant } from '../tenant';
import { exportCircuitStates, type ApiMetrics } from '../metrics';

export interface ProviderRouteDeps {
  config: Config;
  pool: Pool;
  registry: ProviderRegistry;
  metrics: ApiMetrics;
  /** The cost anomaly rule's settings (COST_ANOMALY_*); default: read from the environment at start, as the worker does. */
  costAnomaly?: CostAnomalySettings;
}

/** switchyard_cost_projected_month_usd{provider,tenant} and switchyard_cost_anomaly_ratio{provider}, read at scrape time. */
function exportCostMetrics(metrics: ApiMetrics, costs: CostReports, settings: CostAnomalySettings): void {
  const registers = [metrics.registry];
  new Gauge({
    name: 'switchyard_cost_projected_month_usd',
    help: 'Month-end spend projected at the current run rate (month to date / elapsed fraction of the month), USD',
    labelNames: ['provider', 'tenant'],
    registers,
    async collect() {
      this.reset();
      for (const row of (await costs.projections()).spend) this.set({ provider: row.provider, tenant: row.tenant }, row.projectedUsd);
    },
  });
  new Gauge({
    name: 'switchyard_cost_anomaly_ratio',
    help: 'Spend over the last COST_ANOMALY_WINDOW / average spend per window over the trailing COST_ANOMALY_BASELINE (absent without a non-zero baseline)',
    labelNames: ['provider'],
    registers,
    async collect() {
      this.reset();
      for (const result of await costs.anomalies(settings)) if (result.ratio !== null) this.set({ provider: result.provider }, result.ratio);
    },
  });
}

/** What the provider handlers share (and the metrics they export, registered once per app). */
function providerContext({ config, pool, registry, metrics, costAnomaly }: ProviderRouteDeps) {
  const budgets = createBudgets(pool, registry);
  const breaker = createCircuitBreaker(pool, registry);
  const cache = createProviderCache(pool);
  const costs = createCostReports(pool, registry);
  const anomalySettings = costAnomaly ?? loadCostAnomalySettings(process.env);
  exportCircuitStates(metrics, () => breaker.list());
  exportCostMetrics(metrics, costs, anomalySettings);
  return { config, budgets, breaker, cache, costs, anomalySettings };
}

type ProviderContext = ReturnType<typeof providerContext>;
const route = defineRoute<ProviderContext>();

export const listBudgets = route({
  method: 'GET',
  path: '/budgets',
  permission: 'monitoring:read',
  summary: 'Provider budget use against its daily and monthly limits',
  tag: 'providers',
  responses: { 200: answer('budgets', s.budgetList) },
  async handler(req: Request, res: Response, { config, budgets, costs, anomalySettings }) {
    const tenant = requireTenant(req, res, config);
    if (!tenant) return;
    const [usage, projection, anomalies] = await Promise.all([budgets.usage(), costs.projections(), costs.anomalies(anomalySettings)]);
    const anomalyOf = new Map(anomalies.map((a) => [a.provider, a]));
    const spentBy = (provider: string) => projection.spend.filter((r) => r.provider === provider);
    const sum = (values: number[]) => Math.round(values.reduce((a, b) => a + b, 0) * 1e6) / 1e6;
    const withCosts = usage.map((use) => {
      const rows = spentBy(use.provider);
      const projectedUsd = sum(rows.map((r) => r.projectedUsd));
      const monthlyBudgetUsd = use.monthly?.budgetUsd ?? null;
      const anomaly = anomalyOf.get(use.provider);
      return {
        ...use,
        // Every tenant's spend with this provider (system-wide, like the budget it is measured against).
        projection: {
          spentUsd: sum(rows.map((r) => r.spentUsd)),
          projectedUsd,
          monthlyBudgetUsd,
          projectedPercent: monthlyBudgetUsd ? Math.round((projectedUsd / monthlyBudgetUsd) * 10_000) / 100 : null,
        },
        anomaly: anomaly
          ? { windowUsd: anomaly.windowUsd, baselineUsdPerWindow: anomaly.baselineUsdPerWindow, ratio: anomaly.ratio, anomalous: anomaly.anomalous }
          : null,
      };
    });
    res.json({
      budgets: withCosts,
      // The warning lines (budget_alerts are raised at each) and the refusal line, for dashboards.
      thresholds: [...BUDGET_ALERT_THRESHOLDS],
      refusalPercent: BUDGET_REFUSAL_THRESHOLD * 100,
      // The caller's own tenant only: other tenants' spend is theirs.
      projection: {
        method: projection.method,
        monthStart: projection.monthStart,
        monthEnd: projection.monthEnd,
        at: projection.at,
        elapsedFraction: projection.elapsedFraction,
        tenant,
        byProvider: projection.spend.filter((r) => r.tenant === tenant).map(({ provider, spentUsd, projectedUsd }) => ({ provider, spentUsd, projectedUsd })),
      },
      anomalyRule: {
        multiple: anomalySettings.COST_ANOMALY_MULTIPLE,
        windowMs: anomalySettings.COST_ANOMALY_WINDOW,
        baselineMs: anomalySettings.COST_ANOMALY_BASELINE,
        minUsd: anomalySettings.COST_ANOMALY_MIN_USD,
        windowStart: anomalies[0]?.windowStart ?? null,
        windowEnd: anomalies[0]?.windowEnd ?? null,
      },
    });
  },
});

export const listCircuits = route({
  method: 'GET',
  path: '/circuits',
  permission: 'monitoring:read',
  summary: 'Circuit breaker state per provider',
  tag: 'providers',
  responses: { 200: answer('circuits', s.circuitList) },
  async handler(_req: Request, res: Response, { breaker }) {
    res.json({ circuits: await breaker.list() });
  },
});

export const invalidateCache = route({
  method: 'DELETE',
  path: '/cache',
  permission: 'config:write',
  audit: 'cache.invalidate',
  summary: "Invalidate this tenant's cached provider reads under a key prefix",
  tag: 'providers',
  query: cachePrefixQuery,
  responses: { 200: answer('entries removed', s.cacheRemoved), 400: failure('prefix missing') },
  async handler(req: Request, res: Response, { config, cache }) {
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
  },
});

export const providerRoutes = routeGroup({
  context: providerContext,
  routes: [listBudgets, listCircuits, invalidateCache],
});
