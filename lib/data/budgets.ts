/**
 * The cost ledger (`cost_ledger`, `budget_alerts`): budgets, the cost reports read from it (below),
 * and its retention.
 *
 * Budgets over a PostgreSQL cost ledger (ARCHITECTURE.md "Shared state"). A call reserves its cost
 * before it runs and is settled (it ran) or released (it did not). Non-critical calls that would
 * take a provider past 90% of its daily or monthly budget are refused; crossings of 70/85/95% are
 * recorded once per period as budget alerts. Reservations are serialised per provider with a
 * transaction-scoped advisory lock so concurrent workers cannot overspend together.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import type { CostAnomalySettings } from '../config/monitoring-config';
import { providerNamed, type ProviderRegistry } from '../config/registry';
import { callErrorTypes } from '../../contracts/errors';
import type { CostAnomaly, CostAnomalyCheckInput } from '../../contracts/monitoring';
import { bucketOf, bucketParams, inRange, type TimeBuckets } from './time-buckets';

type Queryable = Pick<Pool, 'query'>;

export const BUDGET_REFUSAL_THRESHOLD = 0.9;
export const BUDGET_ALERT_THRESHOLDS = [70, 85, 95] as const;
/** The threshold a refusal records in budget_alerts: the throttle line, as a percentage. */
export const BUDGET_THROTTLE_PERCENT = BUDGET_REFUSAL_THRESHOLD * 100;

/** A budget_alerts row: a line crossed (or the throttle reached) by a provider in one period. */
export interface BudgetCrossing {
  provider: string;
  period: 'daily' | 'monthly';
  /** The period's first day, YYYY-MM-DD. */
  periodStart: string;
  threshold: number;
  usedUsd: number;
  budgetUsd: number;
}

export interface Reservation {
  reservation: string;
  tenant: string;
  provider: string;
  operation: string;
  workflowId: string;
  amountUsd: number;
  critical: boolean;
}

export interface PeriodUse {
  usedUsd: number;
  budgetUsd: number;
  percent: number;
}

export interface BudgetUse {
  provider: string;
  daily: PeriodUse | null;
  monthly: PeriodUse | null;
  alerts: Array<{ period: string; threshold: number; raisedAt: string }>;
}

const USE_SQL = `
  SELECT COALESCE(SUM(amount_usd) FILTER (WHERE created_at >= date_trunc('day', now())), 0) AS daily,
         COALESCE(SUM(amount_usd) FILTER (WHERE created_at >= date_trunc('month', now())), 0) AS monthly
    FROM cost_ledger
   WHERE provider = $1 AND status IN ('reserved', 'settled') AND created_at >= date_trunc('month', now()) - interval '1 day'`;

function periodUse(used: number, budget: number): PeriodUse {
  return { usedUsd: used, budgetUsd: budget, percent: Math.round((used / budget) * 10_000) / 100 };
}

/**
 * Would this call be refused? The refusal, with the period whose throttle line the call would
 * pass; null when it may run. (The API asks before starting a workflow; the workflow asks again.)
 */
export function budgetRefusal(provider: string, use: BudgetUse, amountUsd: number, critical: boolean): { reason: string; period: 'daily' | 'monthly'; use: PeriodUse } | null {
  if (critical) return null;
  for (const [period, value] of [['daily', use.daily], ['monthly', use.monthly]] as const) {
    if (value && value.usedUsd + amountUsd > value.budgetUsd * BUDGET_REFUSAL_THRESHOLD) {
      const reason = `${provider} ${period} budget: $${value.usedUsd.toFixed(2)} of $${value.budgetUsd.toFixed(2)} used; non-critical calls are refused past ${BUDGET_THROTTLE_PERCENT}%`;
      return { reason, period, use: value };
    }
  }
  return null;
}

/** Records a crossing of the current period once (the first one stands). */
async function recordCrossing(query: Queryable, provider: string, period: 'daily' | 'monthly', threshold: number, use: PeriodUse): Promise<void> {
  await query.query(
    `INSERT INTO budget_alerts (provider, period, period_start, threshold, used_usd, budget_usd)
     VALUES ($1, $2, date_trunc($3, now())::date, $4, $5, $6) ON CONFLICT DO NOTHING`,
    [provider, period, period === 'daily' ? 'day' : 'month', threshold, use.usedUsd, use.budgetUsd],
  );
}

interface CrossingRow {
  provider: string;
  period: 'daily' | 'monthly';
  period_start: string;
  threshold: number;
  used_usd: string;
  budget_usd: string;
}
const crossingOf = (r: CrossingRow): BudgetCrossing => ({
  provider: r.provider,
  period: r.period,
  periodStart: r.period_start,
  threshold: r.threshold,
  usedUsd: Number(r.used_usd),
  budgetUsd: Number(r.budget_usd),
});
const CROSSING_COLUMNS = `provider, period, to_char(period_start, 'YYYY-MM-DD') AS period_start, threshold, used_usd, budget_usd`;

/**
 * The provider's crossings still to page (not yet raised as alerts, in a period still running) and
 * those whose period is over but not yet closed. A crossing is marked with markCrossings once done.
 */
export async function budgetCrossings(pool: Queryable, provider: string): Promise<{ toRaise: BudgetCrossing[]; toResolve: BudgetCrossing[] }> {
  const { rows } = await pool.query<CrossingRow & { over: boolean; notified: boolean }>(
    `SELECT ${CROSSING_COLUMNS}, notified_at IS NOT NULL AS notified,
            period_start < date_trunc(CASE period WHEN 'daily' THEN 'day' ELSE 'month' END, now())::date AS over
       FROM budget_alerts WHERE provider = $1 AND (notified_at IS NULL OR resolved_at IS NULL) ORDER BY period_start, threshold`,
    [provider],
  );
  // A crossing whose period ended before it was paged is not paged late: it is only closed.
  return { toRaise: rows.filter((r) => !r.notified && !r.over).map(crossingOf), toResolve: rows.filter((r) => r.over).map(crossingOf) };
}

/** Marks crossings as raised (`notified_at`) or resolved (`resolved_at`). */
export async function markCrossings(pool: Queryable, done: 'notified' | 'resolved', crossings: BudgetCrossing[]): Promise<void> {
  for (const c of crossings) {
    await pool.query(
      `UPDATE budget_alerts SET ${done === 'notified' ? 'notified_at = now()' : 'resolved_at = now(), notified_at = COALESCE(notified_at, now())'}
        WHERE provider = $1 AND period = $2 AND period_start = $3::date AND threshold = $4`,
      [c.provider, c.period, c.periodStart, c.threshold],
    );
  }
}

/**
 * A reservation refused past the throttle line (after its transaction was rolled back): the line
 * is recorded once per provider and period, and paged (budgetCrossings); the failure to throw.
 */
async function refused(
  query: Queryable,
  call: { provider: string; operation: string },
  refusal: NonNullable<ReturnType<typeof budgetRefusal>>,
): Promise<ApplicationFailure> {
  await recordCrossing(query, call.provider, refusal.period, BUDGET_THROTTLE_PERCENT, refusal.use);
  return ApplicationFailure.create({
    message: refusal.reason,
    type: callErrorTypes.budgetExceeded,
    nonRetryable: true,
    details: [{ provider: call.provider, operation: call.operation }],
  });
}

export function createBudgets(pool: Pool, registry: ProviderRegistry) {
  async function useOf(provider: string, query: Pick<Pool, 'query'> = pool): Promise<BudgetUse> {
    const budget = providerNamed(registry, provider)?.budget ?? null;
    const { rows } = await query.query<{ daily: string; monthly: string }>(USE_SQL, [provider]);
    const alerts = await query.query<{ period: string; threshold: number; raised_at: Date }>(
      `SELECT period, threshold, raised_at FROM budget_alerts
        WHERE provider = $1 AND period_start >= date_trunc('month', now())::date ORDER BY raised_at`,
      [provider],
    );
    return {
      provider,
      daily: budget ? periodUse(Number(rows[0]!.daily), budget.dailyUsd) : null,
      monthly: budget ? periodUse(Number(rows[0]!.monthly), budget.monthlyUsd) : null,
      alerts: alerts.rows.map((a) => ({ period: a.period, threshold: a.threshold, raisedAt: a.raised_at.toISOString() })),
    };
  }

  return {
    useOf,

    /** Why a call of this cost may not run now (the throttle line, recorded once per period), or null when it may. */
    async refusal(provider: string, amountUsd: number, critical: boolean): Promise<string | null> {
      const refused = budgetRefusal(provider, await useOf(provider), amountUsd, critical);
      if (refused) await recordCrossing(pool, provider, refused.period, BUDGET_THROTTLE_PERCENT, refused.use);
      return refused?.reason ?? null;
    },

    async usage(): Promise<BudgetUse[]> {
      return Promise.all(Object.keys(registry).map((provider) => useOf(provider)));
    },

    /** Reserves the call's cost, or refuses it (non-retryable BudgetExceeded). Idempotent per reservation id. */
    async reserveBudget(r: Reservation): Promise<{ reserved: boolean; use: BudgetUse }> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`budget:${r.provider}`]);
        const existing = await client.query('SELECT status FROM cost_ledger WHERE reservation = $1', [r.reservation]);
        if (existing.rowCount === 1) {
          await client.query('COMMIT');
          return { reserved: true, use: await useOf(r.provider) };
        }
        const before = await useOf(r.provider, client);
        const refusal = budgetRefusal(r.provider, before, r.amountUsd, r.critical);
        if (refusal) {
          await client.query('ROLLBACK');
          throw await refused(pool, r, refusal);
        }
        await client.query(
          `INSERT INTO cost_ledger (reservation, tenant, provider, operation, workflow_id, amount_usd, status, critical)
           VALUES ($1, $2, $3, $4, $5, $6, 'reserved', $7)`,
          [r.reservation, r.tenant, r.provider, r.operation, r.workflowId, r.amountUsd, r.critical],
        );
        const after = await useOf(r.provider, client);
        for (const [period, value] of [['daily', after.daily], ['monthly', after.monthly]] as const) {
          if (!value) continue;
          for (const threshold of BUDGET_ALERT_THRESHOLDS) {
            if (value.percent >= threshold) await recordCrossing(client, r.provider, period, threshold, value);
          }
        }
        await client.query('COMMIT');
        return { reserved: true, use: after };
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },

    /** The call ran: its cost stands (`amountUsd`: what it really cost, e.g. only a batch's sent items; never more than reserved). */
    async settleBudget(reservation: string, amountUsd?: number): Promise<{ settled: boolean }> {
      const result = await pool.query(
        `UPDATE cost_ledger SET status = 'settled', settled_at = now(), amount_usd = LEAST(amount_usd, COALESCE($2, amount_usd))
          WHERE reservation = $1 AND status = 'reserved'`,
        [reservation, amountUsd ?? null],
      );
      return { settled: result.rowCount === 1 };
    },

    /**
     * The open reservation of a provider call's current candidate, which workflows/provider-calls.ts
     * names `${workflowId}:${n}:${provider}:${operation}` (a batch flush's reservations are named
     * otherwise and are not found), or null. Candidates run one after another, so at most one is open.
     */
    async openCallReservation(workflowId: string, provider: string, operation: string): Promise<{ reservation: string; amountUsd: number } | null> {
      const { rows } = await pool.query<{ reservation: string; amount_usd: string }>(
        `SELECT reservation, amount_usd FROM cost_ledger
          WHERE workflow_id = $1 AND provider = $2 AND operation = $3 AND status = 'reserved'
          ORDER BY created_at DESC`,
        [workflowId, provider, operation],
      );
      const suffix = `:${provider}:${operation}`;
      const own = rows.find(
        (row) => row.reservation.startsWith(`${workflowId}:`) && row.reservation.endsWith(suffix) && /^\d+$/.test(row.reservation.slice(workflowId.length + 1, -suffix.length)),
      );
      return own ? { reservation: own.reservation, amountUsd: Number(own.amount_usd) } : null;
    },

    /**
     * Raises an open reservation to `amountUsd` (a token-priced call's estimate, known once its params
     * are), refused as a new reservation of the difference would be (non-retryable BudgetExceeded).
     * Never lowers it; idempotent.
     */
    async raiseReservation(reservation: string, amountUsd: number): Promise<{ raised: boolean }> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const row = await client.query<{ provider: string; operation: string; amount_usd: string; critical: boolean }>(
          `SELECT provider, operation, amount_usd, critical FROM cost_ledger WHERE reservation = $1 AND status = 'reserved'`,
          [reservation],
        );
        const open = row.rows[0];
        if (!open || Number(open.amount_usd) >= amountUsd) {
          await client.query('COMMIT');
          return { raised: false };
        }
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`budget:${open.provider}`]);
        const refusal = budgetRefusal(open.provider, await useOf(open.provider, client), amountUsd - Number(open.amount_usd), open.critical);
        if (refusal) {
          await client.query('ROLLBACK');
          throw await refused(pool, open, refusal);
        }
        await client.query(`UPDATE cost_ledger SET amount_usd = $2 WHERE reservation = $1 AND status = 'reserved'`, [reservation, amountUsd]);
        await client.query('COMMIT');
        return { raised: true };
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },

    /**
     * The call ran and its answer says what it cost (a token-priced call's usage): settled at that
     * figure, above the reservation too, so budgets and spend show the real cost.
     */
    async settleBudgetAt(reservation: string, amountUsd: number): Promise<{ settled: boolean }> {
      const result = await pool.query(
        `UPDATE cost_ledger SET status = 'settled', settled_at = now(), amount_usd = $2 WHERE reservation = $1 AND status = 'reserved'`,
        [reservation, amountUsd],
      );
      return { settled: result.rowCount === 1 };
    },

    /** The call did not run (refused by the provider, or failed over): its cost is returned. */
    async releaseBudget(reservation: string): Promise<{ released: boolean }> {
      const result = await pool.query(
        `UPDATE cost_ledger SET status = 'released', settled_at = now() WHERE reservation = $1 AND status = 'reserved'`,
        [reservation],
      );
      return { released: result.rowCount === 1 };
    },
  };
}

export type Budgets = ReturnType<typeof createBudgets>;

// ---------------------------------------------------------------- cost reports

/*
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

/** Spend (reserved and settled, every tenant's, as budgets count it) per provider and time bucket of the reservation. */
export async function spendSeries(pool: Pick<Pool, 'query'>, buckets: TimeBuckets): Promise<Array<{ provider: string; bucket: Date; usd: number }>> {
  const { rows } = await pool.query<{ provider: string; bucket: Date; usd: string }>(
    `SELECT provider, ${bucketOf('created_at')} AS bucket, SUM(amount_usd) AS usd
       FROM cost_ledger WHERE ${SPENT} AND ${inRange('created_at')}
      GROUP BY 1, 2 ORDER BY 2`,
    bucketParams(buckets),
  );
  return rows.map((r) => ({ provider: r.provider, bucket: r.bucket, usd: roundUsd(Number(r.usd)) }));
}

/** Spend over [from, to) per provider: every tenant's (what budgets count) and the tenant's own. */
export async function spendBetween(pool: Pick<Pool, 'query'>, tenant: string, range: { from: Date; to: Date }): Promise<Array<{ provider: string; usd: number; tenantUsd: number }>> {
  const { rows } = await pool.query<{ provider: string; usd: string; tenant_usd: string }>(
    `SELECT provider, SUM(amount_usd) AS usd, coalesce(SUM(amount_usd) FILTER (WHERE tenant = $1), 0) AS tenant_usd
       FROM cost_ledger WHERE ${SPENT} AND created_at >= $2 AND created_at < $3
      GROUP BY provider ORDER BY provider`,
    [tenant, range.from, range.to],
  );
  return rows.map((r) => ({ provider: r.provider, usd: roundUsd(Number(r.usd)), tenantUsd: roundUsd(Number(r.tenant_usd)) }));
}

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

/** Retention: deletes at most `batchSize` cost rows older than `olderThanDays`; returns how many. */
export async function pruneCostRows(pool: Pick<Pool, 'query'>, olderThanDays: number, batchSize: number): Promise<number> {
  const result = await pool.query(
    `DELETE FROM cost_ledger
      WHERE id IN (SELECT id FROM cost_ledger
                    WHERE created_at < now() - make_interval(days => $1)
                    ORDER BY created_at LIMIT $2
                    FOR UPDATE SKIP LOCKED)`,
    [olderThanDays, batchSize],
  );
  return result.rowCount ?? 0;
}
