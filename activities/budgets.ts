/**
 * Budgets over a PostgreSQL cost ledger (ARCHITECTURE.md "Shared state"). A call reserves its cost
 * before it runs and is settled (it ran) or released (it did not). Non-critical calls that would
 * take a provider past 90% of its daily or monthly budget are refused; crossings of 70/85/95% are
 * recorded once per period as budget alerts. Reservations are serialised per provider with a
 * transaction-scoped advisory lock so concurrent workers cannot overspend together.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { Pool } from 'pg';
import { providerNamed, type ProviderRegistry } from '../lib/config/registry';
import { callErrorTypes } from '../contracts/errors';

export const BUDGET_REFUSAL_THRESHOLD = 0.9;
export const BUDGET_ALERT_THRESHOLDS = [70, 85, 95] as const;

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

/** Would this call be refused? (The API asks before starting a workflow; the workflow asks again.) */
export function refusalReason(provider: string, use: BudgetUse, amountUsd: number, critical: boolean): string | null {
  if (critical) return null;
  for (const [period, value] of [['daily', use.daily], ['monthly', use.monthly]] as const) {
    if (value && value.usedUsd + amountUsd > value.budgetUsd * BUDGET_REFUSAL_THRESHOLD) {
      return `${provider} ${period} budget: $${value.usedUsd.toFixed(2)} of $${value.budgetUsd.toFixed(2)} used; non-critical calls are refused past ${BUDGET_REFUSAL_THRESHOLD * 100}%`;
    }
  }
  return null;
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
        const refusal = refusalReason(r.provider, before, r.amountUsd, r.critical);
        if (refusal) {
          await client.query('ROLLBACK');
          throw ApplicationFailure.create({
            message: refusal,
            type: callErrorTypes.budgetExceeded,
            nonRetryable: true,
            details: [{ provider: r.provider, operation: r.operation }],
          });
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
            if (value.percent < threshold) continue;
            await client.query(
              `INSERT INTO budget_alerts (provider, period, period_start, threshold, used_usd, budget_usd)
               VALUES ($1, $2, date_trunc($3, now())::date, $4, $5, $6) ON CONFLICT DO NOTHING`,
              [r.provider, period, period === 'daily' ? 'day' : 'month', threshold, value.usedUsd, value.budgetUsd],
            );
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
