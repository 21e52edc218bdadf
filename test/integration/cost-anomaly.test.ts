/**
 * Cost projection and the cost anomaly rule on the real Temporal dev server and PostgreSQL: from a
 * known cost ledger, GET /budgets shows each provider's month-end projection (run rate) and the
 * anomaly figures, the caller's tenant's own projection, and matches its documented schema; the
 * `costAnomalyCheck` workflow raises `alert:cost-anomaly:{provider}` through the alert workflow
 * for the spiking provider only, raising it again changes nothing, and it resolves once the spike
 * is gone; the API's /metrics carries switchyard_cost_projected_month_usd and
 * switchyard_cost_anomaly_ratio.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { budgetList } from '../../api/schemas';
import type { Config } from '../../lib/config/config';
import { connectClient } from '../../lib/temporal/connection';
import type { ProviderConfig, ProviderRegistry } from '../../lib/config/registry';
import type { costAnomalyCheck } from '../../workflows/monitoring';
import { alertWorkflowId, type CostAnomaly, type CostAnomalyCheckInput } from '../../contracts/monitoring';
import { eventually, registryAt, startApi, startWorker, testConfig, testPool, type RunningApi, type RunningWorker } from '../support/harness';

const run = randomUUID().slice(0, 8);
/** spiking: 10 USD in the last hour against 1 USD/h; steady: 2 USD against 1 USD/h. */
const names = { spiking: `spiking-${run}`, steady: `steady-${run}` };
const HOUR = 3_600_000;

let pool: Pool;
let config: Config;
let registry: ProviderRegistry;
let worker: RunningWorker;
let api: RunningApi;
let client: Client;
let otherTenant: string;

interface Row {
  provider: string;
  tenant: string;
  amount: number;
  at: Date;
  status?: 'settled' | 'reserved' | 'released';
}

async function insertCosts(rows: Row[]): Promise<void> {
  for (const row of rows) {
    await pool.query(
      `INSERT INTO cost_ledger (reservation, tenant, provider, operation, workflow_id, amount_usd, status, created_at)
       VALUES ($1, $2, $3, 'createPaymentIntent', $4, $5, $6, $7)`,
      [`test-${run}-${randomUUID()}`, row.tenant, row.provider, `call:${row.tenant}:${row.provider}:test-${run}`, row.amount, row.status ?? 'settled', row.at],
    );
  }
}

beforeAll(async () => {
  pool = testPool();
  config = testConfig();
  otherTenant = `other-${run}`;
  registry = registryAt('http://127.0.0.1:9', (r) => {
    const stripe = r.stripe!;
    for (const name of Object.keys(r)) delete r[name];
    for (const name of Object.values(names)) r[name] = { ...structuredClone(stripe), name, budget: { dailyUsd: 1000, monthlyUsd: 2000 } } satisfies ProviderConfig;
  });
  worker = await startWorker(config, pool, { registry, env: {} }); // no alert channels: the alert workflow only records
  api = await startApi(config, pool, registry);
  client = await connectClient(config.TEMPORAL_ADDRESS, config.TEMPORAL_NAMESPACE, config.PAYLOAD_ENCRYPTION_KEYS);
});

/**
 * The known ledger, written afresh by each test (a concurrent jest run's set-up empties
 * cost_ledger of the shared test database, so rows are written right before they are read).
 */
async function seedLedger(): Promise<void> {
  await pool.query('DELETE FROM cost_ledger WHERE provider = ANY($1)', [Object.values(names)]);
  const now = Date.now();
  const rows: Row[] = [];
  for (const provider of Object.values(names)) {
    // History began a month ago (a released row: no spend), so the whole 7-day baseline counts.
    rows.push({ provider, tenant: config.DEFAULT_TENANT, amount: 0.5, at: new Date(now - 30 * 24 * HOUR), status: 'released' });
    // Baseline: 28 × 6 USD over the 7 days before the last hour = 1 USD per hour.
    for (let i = 0; i < 28; i++) rows.push({ provider, tenant: config.DEFAULT_TENANT, amount: 6, at: new Date(now - HOUR - 30 * 60_000 - i * 6 * HOUR) });
  }
  // The last hour: the spiking provider 10 USD (7 of them another tenant's), the steady one 2 USD.
  rows.push({ provider: names.spiking, tenant: config.DEFAULT_TENANT, amount: 3, at: new Date(now - 20 * 60_000) });
  rows.push({ provider: names.spiking, tenant: otherTenant, amount: 7, at: new Date(now - 10 * 60_000) });
  rows.push({ provider: names.steady, tenant: config.DEFAULT_TENANT, amount: 2, at: new Date(now - 15 * 60_000) });
  await insertCosts(rows);
}

afterAll(async () => {
  await api?.close();
  await worker?.stop();
  await client?.connection.close();
  await pool?.query('DELETE FROM cost_ledger WHERE provider = ANY($1)', [Object.values(names)]).catch(() => undefined);
  await pool?.end();
});

function check(input: CostAnomalyCheckInput): Promise<CostAnomaly[]> {
  return client.workflow.execute<typeof costAnomalyCheck>('costAnomalyCheck', {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowId: `test-cost-anomaly:${run}:${randomUUID()}`,
    args: [input],
  });
}

interface AlertJson {
  id: string;
  rule: string;
  state: string;
  severity: string;
  provider: string | null;
  summary: string;
}

test('GET /budgets: month-end projection per provider and for the caller’s tenant, anomaly figures, documented schema', async () => {
  await seedLedger();
  const res = await api.fetch('/budgets');
  expect(res.status).toBe(200);
  const body = budgetList.parse(await res.json());
  const { monthStart } = body.projection;
  // What the ledger holds this month (the released row never counts), per provider and for this tenant.
  const spentSince = async (provider: string, tenant?: string): Promise<number> =>
    Number(
      (
        await pool.query<{ s: string }>(
          `SELECT COALESCE(SUM(amount_usd), 0) AS s FROM cost_ledger
            WHERE provider = $1 AND status <> 'released' AND created_at >= $2 AND ($3::text IS NULL OR tenant = $3)`,
          [provider, monthStart, tenant ?? null],
        )
      ).rows[0]!.s,
    );
  expect(body.projection).toMatchObject({ method: 'run-rate', tenant: config.DEFAULT_TENANT });
  expect(Date.parse(body.projection.monthEnd)).toBeGreaterThan(Date.parse(monthStart));
  const fraction = body.projection.elapsedFraction;
  expect(fraction).toBeGreaterThan(0);

  const spiking = body.budgets.find((b) => b.provider === names.spiking)!;
  const spikingSpent = await spentSince(names.spiking);
  expect(spiking.projection.spentUsd).toBeCloseTo(spikingSpent, 6);
  expect(spiking.projection.projectedUsd).toBeCloseTo(spikingSpent / fraction, 2);
  expect(spiking.projection.monthlyBudgetUsd).toBe(2000);
  expect(spiking.projection.projectedPercent).toBeCloseTo((spikingSpent / fraction / 2000) * 100, 1);
  expect(spiking.anomaly).toEqual({ windowUsd: 10, baselineUsdPerWindow: 1, ratio: 10, anomalous: true });
  const steady = body.budgets.find((b) => b.provider === names.steady)!;
  expect(steady.anomaly).toEqual({ windowUsd: 2, baselineUsdPerWindow: 1, ratio: 2, anomalous: false });

  // The tenant view holds only the caller's spend: 7 USD of the spike are another tenant's.
  const mine = body.projection.byProvider.find((p) => p.provider === names.spiking)!;
  const mineSpent = await spentSince(names.spiking, config.DEFAULT_TENANT);
  expect(mineSpent).toBeCloseTo(spikingSpent - 7, 6);
  expect(mine.spentUsd).toBeCloseTo(mineSpent, 6);
  expect(mine.projectedUsd).toBeCloseTo(mineSpent / fraction, 2);
  expect(JSON.stringify(body.projection)).not.toContain(otherTenant);
  expect(body.anomalyRule).toMatchObject({ multiple: 3, windowMs: HOUR, baselineMs: 7 * 24 * HOUR, minUsd: 1 });

  // Prometheus: per provider and tenant, and the ratio per provider.
  const metrics = await api.scrapeMetrics();
  const projected = new RegExp(`switchyard_cost_projected_month_usd\\{provider="${names.spiking}",tenant="${otherTenant}"\\} ([0-9.e+-]+)`).exec(metrics);
  expect(Number(projected?.[1])).toBeCloseTo(7 / fraction, 0);
  expect(metrics).toMatch(new RegExp(`switchyard_cost_projected_month_usd\\{provider="${names.spiking}",tenant="${config.DEFAULT_TENANT}"\\} [0-9.]+`));
  expect(metrics).toContain(`switchyard_cost_anomaly_ratio{provider="${names.spiking}"} 10`);
  expect(metrics).toContain(`switchyard_cost_anomaly_ratio{provider="${names.steady}"} 2`);
});

test('the anomaly rule raises alert:cost-anomaly:{provider} through the alert workflow, once, and resolves it when the spike is gone', async () => {
  const providers = Object.values(names);
  const alertId = alertWorkflowId('cost-anomaly', names.spiking);
  await seedLedger();
  const results = await check({ providers });
  expect(results.map((r) => [r.provider, r.anomalous, r.ratio])).toEqual([
    [names.spiking, true, 10],
    [names.steady, false, 2],
  ]);

  const alert = await eventually(async () => {
    const res = await api.fetch(`/alerts/${encodeURIComponent(alertId)}`);
    return res.status === 200 ? ((await res.json()) as AlertJson) : undefined;
  });
  expect(alert).toMatchObject({ rule: 'cost-anomaly', severity: 'high', provider: names.spiking, state: 'firing' });
  expect(alert.summary).toContain('$10.00 in the last 60 min, 10× its baseline of $1.00 per 60 min (alert above 3×)');
  const firstRun = (await client.workflow.getHandle(alertId).describe()).runId;
  const steadyAlert = await api.fetch(`/alerts/${encodeURIComponent(alertWorkflowId('cost-anomaly', names.steady))}`);
  expect(steadyAlert.status).toBe(404);

  // Still anomalous on the next check: the same alert, no second one.
  await check({ providers });
  expect((await client.workflow.getHandle(alertId).describe()).runId).toBe(firstRun);
  const { rows } = await pool.query('SELECT id FROM alerts WHERE rule = $1 AND fingerprint = $2', ['cost-anomaly', names.spiking]);
  expect(rows).toHaveLength(1);

  // The spike is released (the calls did not run): the next check resolves the alert.
  await pool.query(`UPDATE cost_ledger SET status = 'released' WHERE provider = $1 AND created_at >= now() - interval '1 hour'`, [names.spiking]);
  const after = await check({ providers });
  expect(after.find((r) => r.provider === names.spiking)).toMatchObject({ windowUsd: 0, anomalous: false });
  const resolved = await eventually(async () => {
    const res = await api.fetch(`/alerts/${encodeURIComponent(alertId)}`);
    const json = (await res.json()) as AlertJson;
    return json.state === 'resolved' ? json : undefined;
  });
  expect(resolved.state).toBe('resolved');
  const budgets = budgetList.parse(await (await api.fetch('/budgets')).json());
  expect(budgets.budgets.find((b) => b.provider === names.spiking)!.anomaly).toMatchObject({ windowUsd: 0, ratio: 0, anomalous: false });
});
