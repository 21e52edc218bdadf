/**
 * The API's budget check before it starts a call, booking or batch item: past the provider's
 * throttle line a non-critical call is answered 429 `budget_exceeded` and starts nothing, and the
 * throttle is paged like every budget line (lib/temporal/budget-alerts.ts) without holding up the
 * answer. The workflow checks again when it reserves the cost. Refusals are noticed on the live
 * stream's `rate_limit` topic (api/throttle-notices.ts).
 */
import type { WorkflowClient } from '@temporalio/client';
import type { Response } from 'express';
import type { Pool } from 'pg';
import type { Config } from '../lib/config/config';
import type { ProviderRegistry } from '../lib/config/registry';
import { createBudgets } from '../lib/data/budgets';
import type { Logger } from '../lib/logger';
import { pageBudgetCrossings } from '../lib/temporal/budget-alerts';
import { sendError } from './errors';
import { throttleNotices, type ThrottleNotices } from './throttle-notices';

export function budgetGate(deps: { config: Config; workflows: WorkflowClient; pool: Pool; registry: ProviderRegistry; logger: Logger; throttles?: ThrottleNotices }) {
  const budgets = createBudgets(deps.pool, deps.registry);
  const throttles = deps.throttles ?? throttleNotices(deps);
  const paging = { pool: deps.pool, workflows: deps.workflows, taskQueue: deps.config.TEMPORAL_TASK_QUEUE, warn: (message: string, fields: Record<string, unknown>) => deps.logger.warn(fields, message) };
  return {
    /** True after answering 429 when a call of this cost may not run now. */
    async refused(res: Response, provider: string, amountUsd: number, critical: boolean): Promise<boolean> {
      const refusal = await budgets.refusal(provider, amountUsd, critical);
      if (!refusal) return false;
      sendError(res, 429, 'budget_exceeded', refusal);
      throttles.throttled({ kind: 'budget', tenant: null, subject: provider, reason: refusal });
      void pageBudgetCrossings(paging, provider);
      return true;
    },
  };
}
