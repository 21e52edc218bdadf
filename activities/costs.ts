/**
 * What the cost ledger says about where spend is heading: a month-end projection per provider and
 * tenant, and the cost anomaly rule (spend over the last window far above its trailing baseline).
 * The arithmetic is pure (unit-tested); the queries read `cost_ledger` (reserved and settled rows,
 * as the budgets do) and are shared by the `costAnomalyCheck` workflow's activity, GET /budgets
 * and the API's metrics, so all three always agree.
 *
 * Projection (run rate): spent so far this month / elapsed fraction of the month, the month being
 * PostgreSQL's `date_trunc('month', now())` as for the monthly budget. The elapsed time counts at
 * least one hour, so the first minutes of a month do not project a few cents into thousands.
 *
 * Anomaly: spend in the last COST_ANOMALY_WINDOW (default 1 h) against the average spend per
 * window over the COST_ANOMALY_BASELINE (default 7 days) just before it — over the provider's
 * history instead when that is shorter, but at least one window of it, otherwise there is no
 * baseline and nothing is judged. Anomalous when the window's spend is at least COST_ANOMALY_MIN_USD
 * and more than COST_ANOMALY_MULTIPLE (default 3) times the baseline (or the baseline is zero).
 */
import type { Pool } from 'pg';
import type { CostAnomalySettings } from '../lib/config/monitoring-config';
import type { ProviderRegistry } from '../lib/config/registry';
import type { CostAnomaly, CostAnomalyCheckInput } from '../contracts/monitoring';

/** The shortest elapsed time a projection divides by. */
export const MIN_PROJECTION_ELAPSED_MS = 3_600_000;

export interface MonthWindow {
  start: Date;
  end: Date;
  at: Date;
}

function roundUsd(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/** Share of the month elapsed at `at` (at least MIN_PROJECTION_ELAPSED_MS of it, at most 1). */
export function elapsedFraction(month: MonthWindow): number {
  const length = month.end.getTime() - month.start.getTime();
  const elapsed = Math.max(month.at.getTime() - month.start.getTime(), MIN_PROJECTION_ELAPSED_MS);
  return Math.min(1, elapsed / length);
}

/** Run-rate month-end projection: spent so far / elapsed fraction of the month. */
export function projectMonthEnd(spentUsd: number, month: MonthWindow): number {
  return roundUsd(spentUsd / elapsedFraction(month));
}

export interface SpendHistory {
  /** Spend in the window just ended. */
  windowUsd: number;
  /** Spend in the baseline period before the window. */
  baselineUsd: number;
  /** How much of the baseline period the provider existed for (ms; the first cost row bounds it). */
  baselineCoveredMs: number;
}

/** The anomaly rule's verdict on one provider's figures. */
export function assessCostAnomaly(
  history: SpendHistory,
  settings: CostAnomalySettings,
): Pick<CostAnomaly, 'windowUsd' | 'baselineUsdPerWindow' | 'ratio' | 'multiple' | 'anomalous'> {
  const windowMs = settings.COST_ANOMALY_WINDOW;
  const baselineUsdPerWindow = history.baselineCoveredMs >= windowMs ? roundUsd((history.baselineUsd * windowMs) / history.baselineCoveredMs) : null;
  const ratio = baselineUsdPerWindow !== null && baselineUsdPerWindow > 0 ? Math.round((history.windowUsd / baselineUsdPerWindow) * 1000) / 1000 : null;
  const enough = history.windowUsd > 0 && history.windowUsd >= settings.COST_ANOMALY_MIN_USD;
  const anomalous = enough && baselineUsdPerWindow !== null && (ratio === null || ratio > settings.COST_ANOMALY_MULTIPLE);
  return { windowUsd: roundUsd(history.windowUsd), baselineUsdPerWindow, ratio, multiple: settings.COST_ANOMALY_MULTIPLE, anomalous };
}

export interface SpendProjection {
  provider: string;
  tenant: string;
  spentUsd: number;
  projectedUsd: number;
}

export interface MonthProjection {
  method: 'run-rate';
  monthStart: string;
  monthEnd: string;
  at: string;
  elapsedFraction: number;
  /** One entry per provider and tenant with spend this month. */
  spend: SpendProjection[];
}

const SPENT = `status IN ('reserved', 'settled')`;

export function createCostReports(pool: Pool, registry: ProviderRegistry) {
  return {
    /** Month-to-date spend and its run-rate projection per provider and tenant. */
    async projections(at?: Date): Promise<MonthProjection> {
      const bounds = await pool.query<{ start: Date; end: Date; at: Date }>(
        `SELECT date_trunc('month', t) AS start, date_trunc('month', t) + interval '1 month' AS end, t AS at
           FROM (SELECT COALESCE($1::timestamptz, now()) AS t) n`,
        [at ?? null],
      );
      const month = bounds.rows[0]!;
      const { rows } = await pool.query<{ provider: string; tenant: string; spent: string }>(
        `SELECT provider, tenant, SUM(amount_usd) AS spent FROM cost_ledger
          WHERE ${SPENT} AND created_at >= $1 AND created_at <= $2 GROUP BY provider, tenant ORDER BY provider, tenant`,
        [month.start, month.at],
      );
      return {
        method: 'run-rate',
        monthStart: month.start.toISOString(),
        monthEnd: month.end.toISOString(),
        at: month.at.toISOString(),
        elapsedFraction: Math.round(elapsedFraction(month) * 1e6) / 1e6,
        spend: rows.map((r) => ({ provider: r.provider, tenant: r.tenant, spentUsd: roundUsd(Number(r.spent)), projectedUsd: projectMonthEnd(Number(r.spent), month) })),
      };
    },

    /** The anomaly rule over each provider (default: the registry's and any with spend in the window or baseline). */
    async anomalies(settings: CostAnomalySettings, input: CostAnomalyCheckInput = {}): Promise<CostAnomaly[]> {
      const windowMs = settings.COST_ANOMALY_WINDOW;
      const baselineMs = settings.COST_ANOMALY_BASELINE;
      const now = await pool.query<{ at: Date }>('SELECT COALESCE($1::timestamptz, now()) AS at', [input.at ?? null]);
      const windowEnd = now.rows[0]!.at;
      const windowStart = new Date(windowEnd.getTime() - windowMs);
      const baselineStart = new Date(windowStart.getTime() - baselineMs);
      const sums = await pool.query<{ provider: string; window_usd: string; baseline_usd: string }>(
        `SELECT provider,
                COALESCE(SUM(amount_usd) FILTER (WHERE created_at >= $2), 0) AS window_usd,
                COALESCE(SUM(amount_usd) FILTER (WHERE created_at < $2), 0) AS baseline_usd
           FROM cost_ledger
          WHERE ${SPENT} AND created_at >= $1 AND created_at <= $3 AND ($4::text[] IS NULL OR provider = ANY($4))
          GROUP BY provider`,
        [baselineStart, windowStart, windowEnd, input.providers ?? null],
      );
      const byProvider = new Map(sums.rows.map((r) => [r.provider, r]));
      const providers = input.providers ?? [...new Set([...Object.keys(registry), ...byProvider.keys()])].sort();
      // The first cost row of each provider (any status): how much baseline history there is.
      const first = await pool.query<{ provider: string; first_at: Date | null }>(
        `SELECT p AS provider, (SELECT min(created_at) FROM cost_ledger WHERE provider = p) AS first_at FROM unnest($1::text[]) AS p`,
        [providers],
      );
      const firstAt = new Map(first.rows.map((r) => [r.provider, r.first_at]));
      return providers.map((provider) => {
        const row = byProvider.get(provider);
        const since = firstAt.get(provider);
        const coveredFrom = since ? Math.max(since.getTime(), baselineStart.getTime()) : windowStart.getTime();
        const verdict = assessCostAnomaly(
          {
            windowUsd: Number(row?.window_usd ?? 0),
            baselineUsd: Number(row?.baseline_usd ?? 0),
            baselineCoveredMs: Math.max(0, windowStart.getTime() - coveredFrom),
          },
          settings,
        );
        return { provider, windowStart: windowStart.toISOString(), windowEnd: windowEnd.toISOString(), ...verdict };
      });
    },
  };
}

export type CostReports = ReturnType<typeof createCostReports>;

/** The activity the `costAnomalyCheck` workflow runs (settings from the worker's configuration). */
export function createCostActivities(deps: { pool: Pool; registry: ProviderRegistry; settings: CostAnomalySettings }) {
  const reports = createCostReports(deps.pool, deps.registry);
  return {
    async evaluateCostAnomalies(input: CostAnomalyCheckInput): Promise<CostAnomaly[]> {
      return reports.anomalies(deps.settings, input);
    },
  };
}
