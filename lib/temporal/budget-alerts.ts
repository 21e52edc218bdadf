/**
 * Budget crossings reach people: every line a provider's spend crosses in a period (70, 85 and 95%,
 * and the 90% throttle that refuses non-critical calls), recorded once in budget_alerts by the
 * reservation, is raised as an `alert` workflow, so it goes through the alert channels and the
 * escalation table like any other alert, and is resolved when its period is over. One alert per
 * provider, period and line: `alert:budget-warning:{provider}:{daily|monthly}:{period start}`.
 * The worker pages after each reservation (reserveBudget), the API after each refusal it answers.
 */
import type { WorkflowClient } from '@temporalio/client';
import type { Pool } from 'pg';
import type { AlertInput, AlertSeverity } from '../../contracts/monitoring';
import { budgetCrossings, markCrossings, type BudgetCrossing } from '../data/budgets';
import { raiseAlertRun, resolveAlertRun } from './alert-runs';

/** The rule and severity of each line: warning, critical, emergency as the source's budget alerts name them, and the throttle. */
export const budgetAlertRules: Record<number, { rule: string; severity: AlertSeverity; label: string }> = {
  70: { rule: 'budget-warning', severity: 'medium', label: 'warning' },
  85: { rule: 'budget-critical', severity: 'high', label: 'critical' },
  90: { rule: 'budget-throttle', severity: 'high', label: 'throttled: non-critical calls refused' },
  95: { rule: 'budget-emergency', severity: 'critical', label: 'emergency' },
};

export function budgetAlertInput(c: BudgetCrossing): AlertInput {
  const { rule, severity, label } = budgetAlertRules[c.threshold] ?? { rule: 'budget-warning', severity: 'medium', label: 'warning' };
  return {
    rule,
    severity,
    fingerprint: `${c.provider}:${c.period}:${c.periodStart}`,
    provider: c.provider,
    summary: `${c.provider} ${c.period} budget past ${c.threshold}% (${label}): $${c.usedUsd.toFixed(2)} of $${c.budgetUsd.toFixed(2)} in the period from ${c.periodStart}`,
    details: { ...c },
  };
}

/**
 * Raises the provider's crossings not yet paged, and resolves those of periods that are over.
 * Each is marked when done, so a failure (Temporal unreachable) leaves it for the next reservation
 * of the provider; it never fails the reservation that found it.
 */
export async function pageBudgetCrossings(
  deps: { pool: Pool; workflows: WorkflowClient; taskQueue: string; warn: (message: string, fields: Record<string, unknown>) => void },
  provider: string,
): Promise<void> {
  try {
    const { toRaise, toResolve } = await budgetCrossings(deps.pool, provider);
    for (const crossing of toRaise) {
      await raiseAlertRun(deps, budgetAlertInput(crossing));
      await markCrossings(deps.pool, 'notified', [crossing]);
    }
    for (const crossing of toResolve) {
      const { rule, fingerprint } = budgetAlertInput(crossing);
      await resolveAlertRun(deps, { rule, fingerprint, reason: `the ${crossing.period} budget period from ${crossing.periodStart} is over` }, 'signal');
      await markCrossings(deps.pool, 'resolved', [crossing]);
    }
  } catch (err) {
    deps.warn('budget alerts not paged yet; the next reservation of the provider tries again', { provider, error: err instanceof Error ? err.message : String(err) });
  }
}
