/**
 * The operator reads and actions the source systems exposed, each over what Switchyard already
 * keeps: cache statistics per tenant and namespace (`provider_cache_stats`, every worker's
 * look-ups), circuit reset (audited), each provider's rate-limit status (`provider_request_counts`
 * against the registry's limit), batch queue depth (the tenant's open batch workflows, asked
 * through their `status` query), alert statistics, the effective configuration and failover table
 * without secrets, and the performance and cost-savings report. Per-tenant reads (cache, batch
 * queues, the report's batching, cache and own spend) show the caller's tenant only; provider
 * state (circuits, rate limits, alerts, configuration) is system-wide, like GET /circuits.
 */
import type { Request, Response } from 'express';
import type { Pool } from 'pg';
import { batchPriorities, batchStatusQuery, type BatchPriority } from '../../contracts/batch';
import { alertSeverities } from '../../contracts/monitoring';
import { tenantKey } from '../../contracts/search-attributes';
import type { Config } from '../../lib/config/config';
import { configValues, registryView } from '../../lib/config/effective-config';
import { loadMonitoringConfig } from '../../lib/config/monitoring-config';
import { providerNamed, type ProviderRegistry } from '../../lib/config/registry';
import { alertStatistics as alertStatisticsRows, type AlertStatisticsRow } from '../../lib/data/alerts';
import { batchSavings } from '../../lib/data/batch-items';
import { spendBetween } from '../../lib/data/budgets';
import { createCircuitBreaker } from '../../lib/data/circuits';
import { cacheEntries, cacheStats as cacheStatsRows } from '../../lib/data/provider-cache';
import { recentRequestUse, requestTotals } from '../../lib/data/provider-requests';
import type { Logger } from '../../lib/logger';
import { noteAudit } from '../audit-middleware';
import { principalOf } from '../auth';
import { sendError } from '../errors';
import { answer, defineRoute, failure, routeGroup } from '../route';
import * as s from '../schemas';
import { cacheStatsQuery, periodMs, periodQuery } from '../schemas';
import { requireTenant } from '../tenant';
import type { WorkflowStarter } from '../../lib/temporal/workflow-starter';

/** Open batches one GET /batch-queues asks (each through its query); more are counted, not listed. */
export const MAX_LISTED_BATCHES = 200;

export interface OperationsRouteDeps {
  config: Config;
  pool: Pool;
  registry: ProviderRegistry;
  workflows: WorkflowStarter;
  logger: Logger;
}

function operationsContext({ config, pool, registry, workflows, logger }: OperationsRouteDeps) {
  return { config, pool, registry, workflows, logger, breaker: createCircuitBreaker(pool, registry) };
}
type OperationsContext = ReturnType<typeof operationsContext>;
const route = defineRoute<OperationsContext>();

/** The period a report covers, back from now (the query policy has checked it). */
function rangeOf(period: string): { period: string; from: Date; to: Date } {
  const to = new Date();
  return { period, from: new Date(to.getTime() - periodMs(period)), to };
}
const rangeJson = (range: { period: string; from: Date; to: Date }) => ({ period: range.period, from: range.from.toISOString(), to: range.to.toISOString() });

const hitRate = (hits: number, total: number): number | null => (total === 0 ? null : Math.round((hits / total) * 10_000) / 100);
const usd = (value: number) => Math.round(value * 1e6) / 1e6;

export const cacheStats = route({
  method: 'GET',
  path: '/cache/stats',
  permission: 'monitoring:read',
  summary: "The caller's tenant's provider cache per namespace (provider/operation): hits, misses, hit rate over the period, live entries",
  tag: 'providers',
  query: cacheStatsQuery,
  responses: { 200: answer('per namespace and in total', s.cacheStatsAnswer), 400: failure('invalid query'), 404: failure('unknown provider') },
  async handler(req: Request, res: Response, { config, pool, registry }) {
    const tenant = requireTenant(req, res, config);
    if (!tenant) return;
    const query = cacheStatsQuery.parse(req.query);
    if (query.provider !== undefined && !providerNamed(registry, query.provider)) {
      sendError(res, 404, 'unknown_provider', `no provider "${query.provider}" in the registry`);
      return;
    }
    const range = rangeOf(query.period);
    const [counted, live] = await Promise.all([cacheStatsRows(pool, tenant, { ...range, provider: query.provider }), cacheEntries(pool, tenant, query.provider)]);
    // Every cached operation of the registry, with zeros before its first look-up; then any
    // namespace counted or stored that the registry no longer declares.
    const namespaces = new Map<string, { provider: string; operation: string; ttlSeconds: number | null; hits: number; misses: number; entries: number }>();
    for (const provider of Object.values(registry)) {
      if (query.provider !== undefined && provider.name !== query.provider) continue;
      for (const [operation, declared] of Object.entries(provider.operations)) {
        if (declared.cacheTtlSeconds) namespaces.set(`${provider.name}/${operation}`, { provider: provider.name, operation, ttlSeconds: declared.cacheTtlSeconds, hits: 0, misses: 0, entries: 0 });
      }
    }
    const entryOf = (provider: string, operation: string) => {
      const name = `${provider}/${operation}`;
      if (!namespaces.has(name)) namespaces.set(name, { provider, operation, ttlSeconds: null, hits: 0, misses: 0, entries: 0 });
      return namespaces.get(name)!;
    };
    for (const row of counted) Object.assign(entryOf(row.provider, row.operation), { hits: row.hits, misses: row.misses });
    for (const row of live) entryOf(row.provider, row.operation).entries = row.entries;
    const list = [...namespaces.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([namespace, n]) => ({ namespace, ...n, total: n.hits + n.misses, hitRate: hitRate(n.hits, n.hits + n.misses) }));
    const sum = (pick: (n: (typeof list)[number]) => number) => list.reduce((total, n) => total + pick(n), 0);
    const hits = sum((n) => n.hits);
    const misses = sum((n) => n.misses);
    res.json({
      ...rangeJson(range),
      tenant,
      namespaces: list,
      totals: { entries: sum((n) => n.entries), hits, misses, total: hits + misses, hitRate: hitRate(hits, hits + misses) },
    });
  },
});

export const resetCircuit = route({
  method: 'POST',
  path: '/circuits/:provider/reset',
  permission: 'circuits:reset',
  audit: 'circuit.reset',
  summary: "Close a provider's circuit breaker now (every worker's): failure count and cool-down cleared",
  tag: 'providers',
  responses: { 200: answer('the circuit before and after', s.circuitReset), 404: failure('unknown provider') },
  async handler(req: Request<{ provider: string }>, res: Response, { registry, breaker }) {
    const { provider } = req.params;
    if (!providerNamed(registry, provider)) {
      sendError(res, 404, 'unknown_provider', `no provider "${provider}" in the registry`);
      return;
    }
    const { before, after } = await breaker.reset(provider);
    const principal = principalOf(res);
    noteAudit(res, { target: provider, detail: { before: before.state, consecutiveFailures: before.consecutiveFailures } });
    res.json({ provider, before, after, resetBy: principal ? `${principal.kind}:${principal.id}` : 'unknown', at: new Date().toISOString() });
  },
});

export const rateLimits = route({
  method: 'GET',
  path: '/rate-limits',
  permission: 'monitoring:read',
  summary: "Each provider's rate limit, its recent use (every worker's requests) and throttles (system-wide)",
  tag: 'providers',
  responses: { 200: answer('per provider', s.rateLimitList) },
  async handler(_req: Request, res: Response, { config, pool, registry }) {
    const names = Object.keys(registry).sort();
    const use = new Map((await recentRequestUse(pool, names)).map((row) => [row.provider, row]));
    const round = (value: number) => Math.round(value * 1000) / 1000;
    res.json({
      at: new Date().toISOString(),
      providers: names.map((name) => {
        const limit = registry[name]!.rateLimitPerSecond;
        const row = use.get(name);
        // The current minute has only begun: two minutes of requests over the 60 to 120 s they span.
        const seconds = 60 + new Date().getUTCSeconds();
        const perSecond = round((row?.lastMinute ?? 0) / seconds);
        return {
          provider: name,
          limitPerSecond: limit,
          taskQueue: `${config.PROVIDER_TASK_QUEUE_PREFIX}${name}`,
          lastMinute: { requests: row?.lastMinute ?? 0, perSecond, utilization: round(perSecond / limit), throttled: row?.throttledLastMinute ?? 0 },
          lastHour: { requests: row?.lastHour ?? 0, peakMinute: row?.peakMinute ?? 0, peakPerSecond: round((row?.peakMinute ?? 0) / 60), throttled: row?.throttledLastHour ?? 0 },
          lastThrottledAt: row?.lastThrottledAt?.toISOString() ?? null,
        };
      }),
    });
  },
});

/** `batch:{tenant}:{provider}:{operation}:{priority}` (contracts/batch.ts batchWorkflowId) read back. */
function batchKeyOf(workflowId: string): { provider: string; operation: string; priority: BatchPriority } | undefined {
  const [kind, , provider, operation, priority] = workflowId.split(':');
  if (kind !== 'batch' || !provider || !operation || !(batchPriorities as readonly string[]).includes(priority ?? '')) return undefined;
  return { provider, operation, priority: priority as BatchPriority };
}

export const batchQueues = route({
  method: 'GET',
  path: '/batch-queues',
  permission: 'monitoring:read',
  summary: "Items queued in the caller's tenant's open batches, per provider and priority (and per batch)",
  tag: 'batches',
  responses: { 200: answer('queue depths', s.batchQueueList), 503: failure('Temporal did not answer in time') },
  async handler(req: Request, res: Response, { config, workflows, logger }) {
    const tenant = requireTenant(req, res, config);
    if (!tenant) return;
    // The tenant is a checked name (lowercase letters, digits, _ and -): safe as a query literal.
    const query = `WorkflowType = 'batch' AND ${tenantKey.name} = '${tenant}' AND ExecutionStatus = 'Running'`;
    let found: Array<{ workflowId: string; key: NonNullable<ReturnType<typeof batchKeyOf>> }>;
    let total: number;
    try {
      ({ found, total } = await workflows.withDeadline(Date.now() + config.TEMPORAL_START_TIMEOUT_MS, async () => {
        const listed: Array<{ workflowId: string; key: NonNullable<ReturnType<typeof batchKeyOf>> }> = [];
        for await (const wf of workflows.list({ query, pageSize: MAX_LISTED_BATCHES })) {
          const key = batchKeyOf(wf.workflowId);
          if (key) listed.push({ workflowId: wf.workflowId, key });
          if (listed.length >= MAX_LISTED_BATCHES) break;
        }
        const counted = await workflows.count(query);
        return { found: listed, total: Math.max(counted.count, listed.length) };
      }));
    } catch (err) {
      logger.warn({ err }, 'visibility list of batches failed');
      res.setHeader('Retry-After', '5');
      sendError(res, 503, 'temporal_unavailable', 'could not list batches from Temporal');
      return;
    }
    // A batch that does not answer (ending, or its worker busy) is listed with unknown depth.
    const statuses = await Promise.all(
      found.map(({ workflowId }) =>
        workflows
          .withDeadline(Date.now() + config.TEMPORAL_START_TIMEOUT_MS, () => workflows.getHandle(workflowId).query(batchStatusQuery))
          .catch(() => null),
      ),
    );
    const batches = found.map(({ workflowId, key }, i) => ({ workflowId, ...key, queued: statuses[i]?.queued ?? null, sent: statuses[i]?.sent ?? null }));
    const queues = new Map<string, { provider: string; priority: BatchPriority; queued: number; batches: number }>();
    for (const batch of batches) {
      const name = `${batch.provider}:${batch.priority}`;
      const queue = queues.get(name) ?? { provider: batch.provider, priority: batch.priority, queued: 0, batches: 0 };
      queue.queued += batch.queued ?? 0;
      queue.batches += 1;
      queues.set(name, queue);
    }
    const priorityOrder = (p: BatchPriority) => batchPriorities.indexOf(p);
    res.json({
      tenant,
      at: new Date().toISOString(),
      queues: [...queues.values()].sort((a, b) => (a.provider < b.provider ? -1 : a.provider > b.provider ? 1 : priorityOrder(a.priority) - priorityOrder(b.priority))),
      batches: batches.sort((a, b) => (a.workflowId < b.workflowId ? -1 : 1)),
      total,
      truncated: total > batches.length,
    });
  },
});

function countsJson(row: AlertStatisticsRow | undefined) {
  const stat = (value: number | null | undefined) => (value === null || value === undefined ? null : Math.round(value * 1000) / 1000);
  return {
    total: row?.total ?? 0,
    firing: row?.firing ?? 0,
    acknowledged: row?.acknowledged ?? 0,
    resolved: row?.resolved ?? 0,
    timeToAcknowledge: { count: row?.acked ?? 0, meanSeconds: stat(row?.ack_mean_s), p50Seconds: stat(row?.ack_p50_s), p95Seconds: stat(row?.ack_p95_s), maxSeconds: stat(row?.ack_max_s) },
    timeToResolve: { count: row?.resolved ?? 0, meanSeconds: stat(row?.resolve_mean_s), p50Seconds: stat(row?.resolve_p50_s), p95Seconds: stat(row?.resolve_p95_s), maxSeconds: stat(row?.resolve_max_s) },
  };
}

export const alertStatistics = route({
  method: 'GET',
  path: '/alerts/statistics',
  permission: 'monitoring:read',
  summary: 'Alerts started in the period (system-wide): counts by severity and state, time to acknowledge and to resolve',
  tag: 'monitoring',
  query: periodQuery,
  responses: { 200: answer('per severity and in total', s.alertStatistics), 400: failure('invalid period') },
  async handler(req: Request, res: Response, { pool }) {
    const range = rangeOf(periodQuery.parse(req.query).period);
    const rows = await alertStatisticsRows(pool, range);
    const bySeverity = new Map(rows.filter((r) => r.severity !== null).map((r) => [r.severity, r]));
    res.json({
      ...rangeJson(range),
      bySeverity: alertSeverities.map((severity) => ({ severity, ...countsJson(bySeverity.get(severity)) })),
      totals: countsJson(rows.find((r) => r.severity === null)),
    });
  },
});

export const effectiveConfig = route({
  method: 'GET',
  path: '/config',
  permission: 'config:read',
  summary: 'The configuration in force: variables, monitoring variables and the provider registry, without secrets (system-wide)',
  tag: 'configuration',
  responses: { 200: answer('the configuration', s.effectiveConfig) },
  handler(_req: Request, res: Response, { config, registry }) {
    let monitoring: { variables: ReturnType<typeof configValues>; error: string | null };
    try {
      monitoring = { variables: configValues(loadMonitoringConfig(process.env)), error: null };
    } catch {
      // Its message may quote a refused value (a URL with its token): only that it failed.
      monitoring = { variables: [], error: 'the monitoring variables do not validate in the API process; the worker refuses to start with them' };
    }
    res.json({ variables: configValues(config), monitoring, providers: registryView(registry) });
  },
});

export const failoverConfig = route({
  method: 'GET',
  path: '/config/failover',
  permission: 'config:read',
  summary: "The failover table: each provider's strategy, backups in order and their circuits, and its operations that may fail over",
  tag: 'configuration',
  responses: { 200: answer('the failover table', s.failoverTable) },
  async handler(_req: Request, res: Response, { registry, breaker }) {
    const circuits = new Map((await breaker.list()).map((c) => [c.provider, c.state]));
    const providers = Object.values(registry).sort((a, b) => (a.name < b.name ? -1 : 1));
    res.json({
      failover: providers
        .filter((p) => p.failover !== null)
        .map((p) => ({
          provider: p.name,
          strategy: p.failover!.strategy,
          circuit: circuits.get(p.name) ?? 'closed',
          backups: p.failover!.backups.map((backup) => ({ provider: backup, circuit: circuits.get(backup) ?? 'closed', known: providerNamed(registry, backup) !== undefined })),
          operations: Object.entries(p.operations).filter(([, op]) => op.failoverCapable).map(([name]) => name).sort(),
        })),
      single: providers.filter((p) => p.failover === null).map((p) => p.name),
    });
  },
});

export const performanceReport = route({
  method: 'GET',
  path: '/reports/performance',
  permission: 'monitoring:read',
  summary: "Performance and cost savings over the period: requests saved by batching and the cache (the caller's tenant's), provider requests and spend against budget",
  tag: 'monitoring',
  query: periodQuery,
  responses: { 200: answer('the report', s.performanceReport), 400: failure('invalid period') },
  async handler(req: Request, res: Response, { config, pool, registry }) {
    const tenant = requireTenant(req, res, config);
    if (!tenant) return;
    const range = rangeOf(periodQuery.parse(req.query).period);
    const [batched, cached, requests, spend] = await Promise.all([
      batchSavings(pool, tenant, range),
      cacheStatsRows(pool, tenant, range),
      requestTotals(pool, range),
      spendBetween(pool, tenant, range),
    ]);
    const byOperation = batched.map((r) => ({ provider: r.provider, operation: r.operation, items: r.items, failed: r.failed, providerRequests: r.provider_requests, requestsSaved: Math.max(0, r.items - r.provider_requests) }));
    const items = byOperation.reduce((n, r) => n + r.items, 0);
    const providerRequests = byOperation.reduce((n, r) => n + r.providerRequests, 0);
    const hits = cached.reduce((n, r) => n + r.hits, 0);
    const misses = cached.reduce((n, r) => n + r.misses, 0);
    // A hit is a request not made and its cost not spent: the operation's cost in the registry.
    const cost = (provider: string, operation: string) => {
      const declared = providerNamed(registry, provider);
      return declared && Object.hasOwn(declared.operations, operation) ? declared.operations[operation]!.costUsd : 0;
    };
    const usdSaved = usd(cached.reduce((total, r) => total + r.hits * cost(r.provider, r.operation), 0));
    const days = periodMs(range.period) / 86_400_000;
    const requestsOf = new Map(requests.map((r) => [r.provider, r]));
    const spendOf = new Map(spend.map((r) => [r.provider, r]));
    const names = [...new Set([...Object.keys(registry), ...requestsOf.keys(), ...spendOf.keys()])].sort();
    const providers = names.map((provider) => {
      const budget = providerNamed(registry, provider)?.budget ?? null;
      // What the daily and monthly budgets allow over the period (the tighter of the two, prorated).
      const budgetUsd = budget ? usd(Math.min(budget.dailyUsd * days, (budget.monthlyUsd * days) / 30)) : null;
      const spent = spendOf.get(provider)?.usd ?? 0;
      return {
        provider,
        requests: requestsOf.get(provider)?.requests ?? 0,
        throttled: requestsOf.get(provider)?.throttled ?? 0,
        failed: requestsOf.get(provider)?.failed ?? 0,
        spentUsd: spent,
        tenantSpentUsd: spendOf.get(provider)?.tenantUsd ?? 0,
        budgetUsd,
        budgetPercent: budgetUsd ? Math.round((spent / budgetUsd) * 10_000) / 100 : null,
      };
    });
    res.json({
      ...rangeJson(range),
      tenant,
      batching: { items, providerRequests, requestsSaved: Math.max(0, items - providerRequests), reductionRatio: items === 0 ? null : Math.round((1 - providerRequests / items) * 10_000) / 10_000, byOperation },
      cache: { hits, misses, hitRate: hitRate(hits, hits + misses), requestsSaved: hits, usdSaved },
      providers,
      totals: {
        requestsSaved: Math.max(0, items - providerRequests) + hits,
        usdSaved,
        spentUsd: usd(providers.reduce((n, p) => n + p.spentUsd, 0)),
        tenantSpentUsd: usd(providers.reduce((n, p) => n + p.tenantSpentUsd, 0)),
      },
    });
  },
});

export const operationsRoutes = routeGroup({
  context: operationsContext,
  routes: [cacheStats, resetCircuit, rateLimits, batchQueues, alertStatistics, effectiveConfig, failoverConfig, performanceReport],
});
