/**
 * Monitoring for operators: provider health (latest probe, score, status), SLA compliance history,
 * alerts (list, read, acknowledge by signal), and the monitoring metrics on the API's /metrics,
 * read from PostgreSQL at scrape time so every API replica reports the same values.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Request, Response } from 'express';
import type { Pool } from 'pg';
import { Gauge } from 'prom-client';
import * as alertData from '../../lib/data/alerts';
import type { AlertRow } from '../../lib/data/alerts';
import { createBudgets } from '../../lib/data/budgets';
import { openDeliveryCounts } from '../../lib/data/deliveries';
import { probeP95LastHour, providerHealthRows, recentProbes } from '../../lib/data/probes';
import { latestSlaAvailability, listSlaReports } from '../../lib/data/sla-reports';
import { providerNamed, type ProviderRegistry } from '../../lib/config/registry';
import { ackAlertSignal, alertSeverities, alertStatusQuery, type AlertView } from '../../contracts/monitoring';
import * as s from '../schemas';
import { ackBody, alertsQuery, slaQuery } from '../schemas';
import { noteAudit } from '../audit-middleware';
import { sendError, zodFieldErrors } from '../errors';
import { answer, defineRoute, failure, routeGroup } from '../route';
import { unknownIfUnstorable } from '../route-input';
import type { ApiMetrics } from '../metrics';
import type { WorkflowStarter } from '../../lib/temporal/workflow-starter';

/** How many recent probes GET /provider-health lists per provider. */
const LAST_PROBES = 5;

export interface MonitoringRouteDeps {
  pool: Pool;
  registry: ProviderRegistry;
  metrics: ApiMetrics;
  workflows: WorkflowStarter;
}

function alertJson(row: AlertRow) {
  return {
    id: row.id,
    runId: row.run_id,
    rule: row.rule,
    fingerprint: row.fingerprint,
    severity: row.severity,
    provider: row.provider,
    summary: row.summary,
    state: row.state,
    escalationLevel: row.escalation_level,
    notifications: row.notifications,
    acknowledgedBy: row.acknowledged_by,
    startedAt: row.started_at.toISOString(),
    acknowledgedAt: row.acknowledged_at?.toISOString() ?? null,
    resolvedAt: row.resolved_at?.toISOString() ?? null,
    updatedAt: row.updated_at.toISOString(),
  };
}

/**
 * integration_health_score, integration_probe_latency_seconds, integration_up, sla_availability_ratio,
 * alerts_firing, provider_budget_used_ratio (for the budget alert rule) and deliveries_open.
 */
export function exportMonitoringMetrics(metrics: ApiMetrics, pool: Pool, registry: ProviderRegistry): void {
  const registers = [metrics.registry];
  const budgets = createBudgets(pool, registry);
  new Gauge({
    name: 'provider_budget_used_ratio',
    help: 'Share of the daily / monthly budget used per provider (0..1+), reserved and settled costs',
    labelNames: ['provider', 'period'],
    registers,
    async collect() {
      this.reset();
      for (const use of await budgets.usage()) {
        if (use.daily) this.set({ provider: use.provider, period: 'daily' }, use.daily.usedUsd / use.daily.budgetUsd);
        if (use.monthly) this.set({ provider: use.provider, period: 'monthly' }, use.monthly.usedUsd / use.monthly.budgetUsd);
      }
    },
  });
  const health = () => providerHealthRows(pool);
  new Gauge({
    name: 'integration_health_score',
    help: 'Health score per provider (0..1) from recent probe availability, latency and call error rate',
    labelNames: ['provider'],
    registers,
    async collect() {
      this.reset();
      for (const row of await health()) this.set({ provider: row.provider }, row.score);
    },
  });
  new Gauge({
    name: 'integration_probe_latency_seconds',
    help: 'Latency of the latest health probe per provider, in seconds',
    labelNames: ['provider'],
    registers,
    async collect() {
      this.reset();
      for (const row of await health()) this.set({ provider: row.provider }, row.last_latency_ms / 1000);
    },
  });
  new Gauge({
    name: 'integration_up',
    help: '1 when the latest health probe of the provider succeeded, else 0',
    labelNames: ['provider'],
    registers,
    async collect() {
      this.reset();
      for (const row of await health()) this.set({ provider: row.provider }, row.status === 'down' ? 0 : 1);
    },
  });
  new Gauge({
    name: 'sla_availability_ratio',
    help: 'Availability of the latest SLA report per provider and window (0..1)',
    labelNames: ['provider', 'window'],
    registers,
    async collect() {
      this.reset();
      for (const row of await latestSlaAvailability(pool)) this.set({ provider: row.provider, window: row.time_window }, row.availability);
    },
  });
  new Gauge({
    name: 'deliveries_open',
    help: 'Deliveries not finished (pending: attempts under way or waiting for the next) or dead-lettered (waiting for a replay), every subscriber together',
    labelNames: ['status'],
    registers,
    async collect() {
      this.reset();
      const counts = await openDeliveryCounts(pool);
      for (const [status, n] of Object.entries(counts)) this.set({ status }, n);
    },
  });
  new Gauge({
    name: 'alerts_firing',
    help: 'Open alerts (firing or acknowledged, not resolved) by rule and severity',
    labelNames: ['rule', 'severity', 'state'],
    registers,
    async collect() {
      this.reset();
      for (const severity of alertSeverities) this.set({ rule: 'any', severity, state: 'firing' }, 0);
      for (const row of await alertData.openAlertCounts(pool)) this.set({ rule: row.rule, severity: row.severity, state: row.state }, Number(row.n));
    },
  });
}

/** What the monitoring handlers share (and the monitoring metrics, registered once per app). */
function monitoringContext({ pool, registry, metrics, workflows }: MonitoringRouteDeps) {
  exportMonitoringMetrics(metrics, pool, registry);
  return { pool, registry, workflows };
}

type MonitoringContext = ReturnType<typeof monitoringContext>;
const route = defineRoute<MonitoringContext>();

export const providerHealth = route({
  method: 'GET',
  path: '/provider-health',
  permission: 'monitoring:read',
  summary: 'Health score and status per provider (system-wide)',
  tag: 'monitoring',
  responses: { 200: answer('providers', s.providerHealth) },
  async handler(_req: Request, res: Response, { pool, registry }) {
    const rows = await providerHealthRows(pool);
    const byName = new Map(rows.map((r) => [r.provider, r]));
    const names = Object.keys(registry);
    // For the console: p95 probe latency over the last hour (nearest rank, as the SLA report) and the last probes.
    const p95 = await probeP95LastHour(pool, names);
    const p95By = new Map(p95.map((r) => [r.provider, r.p95_ms]));
    const recent = await recentProbes(pool, names, LAST_PROBES);
    const probesBy = new Map<string, Array<{ ok: boolean; status: number | null; latencyMs: number; error: string | null; at: string }>>();
    for (const r of recent) {
      const list = probesBy.get(r.provider) ?? [];
      list.push({ ok: r.ok, status: r.status, latencyMs: r.latency_ms, error: r.error?.slice(0, 200) ?? null, at: r.at.toISOString() });
      probesBy.set(r.provider, list);
    }
    res.json({
      providers: names.map((provider) => {
        const row = byName.get(provider);
        const extra = { p95Ms: p95By.get(provider) ?? null, lastProbes: probesBy.get(provider) ?? [] };
        return row
          ? { provider, status: row.status, score: row.score, lastLatencyMs: row.last_latency_ms, lastProbeOk: row.last_probe_ok,
              since: row.changed_at.toISOString(), probedAt: row.updated_at.toISOString(), ...extra }
          : { provider, status: 'unknown', score: null, lastLatencyMs: null, lastProbeOk: null, since: null, probedAt: null, ...extra };
      }),
    });
  },
});

export const slaReports = route({
  method: 'GET',
  path: '/sla',
  permission: 'monitoring:read',
  summary: 'SLA reports and compliance',
  tag: 'monitoring',
  query: slaQuery,
  responses: { 200: answer('reports', s.slaAnswer), 400: failure('invalid filter') },
  async handler(req: Request, res: Response, { pool, registry }) {
    const parsed = slaQuery.safeParse(req.query);
    if (!parsed.success) {
      sendError(res, 400, 'invalid_request', 'invalid query', zodFieldErrors(parsed.error));
      return;
    }
    const { provider, window, limit, offset } = parsed.data;
    if (provider && !providerNamed(registry, provider)) {
      sendError(res, 404, 'unknown_provider', `no provider "${provider}" in the registry`);
      return;
    }
    const { rows, totals } = await listSlaReports(pool, { provider, window, limit, offset });
    const reports = rows.map((r) => ({
      provider: r.provider,
      window: r.time_window,
      periodStart: r.period_start.toISOString(),
      periodEnd: r.period_end.toISOString(),
      probes: r.probes,
      calls: r.calls,
      availability: r.availability,
      p95Ms: r.p95_ms,
      errorRate: r.error_rate,
      target: r.target,
      violations: r.violations,
      compliant: r.compliant,
      // A window without probes or calls breaks no threshold, but it proves nothing either: it is
      // neither compliant nor violated, and the summary leaves it out of the ratio.
      noData: r.probes === 0 && r.calls === 0,
    }));
    // The summary covers every report the filters match, not only this page's.
    const judged = totals.total - totals.noData;
    res.json({
      reports,
      total: totals.total,
      summary: { reports: totals.total, noData: totals.noData, compliant: totals.compliant, complianceRatio: judged ? totals.compliant / judged : null },
    });
  },
});

export const listAlerts = route({
  method: 'GET',
  path: '/alerts',
  permission: 'monitoring:read',
  summary: 'Alerts (system-wide)',
  tag: 'monitoring',
  query: alertsQuery,
  responses: { 200: answer('alerts', s.alertList), 400: failure('invalid filter') },
  async handler(req: Request, res: Response, { pool }) {
    const parsed = alertsQuery.safeParse(req.query);
    if (!parsed.success) {
      sendError(res, 400, 'invalid_request', 'invalid query', zodFieldErrors(parsed.error));
      return;
    }
    const { state, limit, offset } = parsed.data;
    const { rows, total } = await alertData.listAlerts(pool, state, limit, offset);
    res.json({ alerts: rows.map(alertJson), total });
  },
});

export const getAlert = route({
  method: 'GET',
  path: '/alerts/:id',
  permission: 'monitoring:read',
  summary: 'One alert with its live escalation state',
  tag: 'monitoring',
  responses: { 200: answer('the alert', s.alertView), 404: failure('no such alert') },
  async handler(req: Request<{ id: string }>, res: Response, { pool, workflows }) {
    const row = await alertData.findAlert(pool, req.params.id);
    if (!row) {
      sendError(res, 404, 'not_found', 'no such alert');
      return;
    }
    let live: AlertView | null = null;
    if (row.state !== 'resolved') {
      live = await workflows.getHandle(row.id).query(alertStatusQuery).catch(() => null);
    }
    res.json({ ...alertJson(row), live });
  },
});

export const ackAlert = route({
  method: 'POST',
  path: '/alerts/:id/ack',
  permission: 'alerts:ack',
  audit: 'alert.ack',
  summary: 'Acknowledge an alert: stops its escalation',
  tag: 'monitoring',
  body: ackBody,
  bodyLimit: '16kb',
  responses: { 202: answer('acknowledged', s.ackAnswer), 404: failure('no such alert'), 409: failure('not firing') },
  async handler(req: Request<{ id: string }>, res: Response, { pool, workflows }) {
    const body = ackBody.safeParse(req.body ?? undefined);
    if (!body.success) {
      sendError(res, 400, 'invalid_request', 'invalid body', zodFieldErrors(body.error));
      return;
    }
    const row = await alertData.findAlert(pool, req.params.id);
    if (!row) {
      sendError(res, 404, 'not_found', 'no such alert');
      return;
    }
    if (row.state === 'resolved') {
      sendError(res, 409, 'alert_resolved', 'the alert is already resolved');
      return;
    }
    try {
      await workflows.getHandle(row.id, row.run_id).signal(ackAlertSignal, { by: body.data.by });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        sendError(res, 409, 'alert_closed', 'the alert workflow is no longer running');
        return;
      }
      throw err;
    }
    noteAudit(res, { detail: { by: body.data.by } });
    res.status(202).json({ id: row.id, runId: row.run_id, acknowledgedBy: body.data.by, escalationLevel: row.escalation_level });
  },
});

export const monitoringRoutes = routeGroup({
  context: monitoringContext,
  params: { id: unknownIfUnstorable('alert') },
  routes: [providerHealth, slaReports, listAlerts, getAlert, ackAlert],
});
