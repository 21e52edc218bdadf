/**
 * The cost anomaly rule's activity; the reports themselves (projection, anomaly rule) are data
 * access over the cost ledger (lib/data/budgets.ts), shared with GET /budgets and the API's metrics.
 */
import type { Pool } from 'pg';
import type { CostAnomalySettings } from '../lib/config/monitoring-config';
import type { ProviderRegistry } from '../lib/config/registry';
import { createCostReports } from '../lib/data/budgets';
import type { CostAnomaly, CostAnomalyCheckInput } from '../contracts/monitoring';

/** The activity the `costAnomalyCheck` workflow runs (settings from the worker's configuration). */
export function createCostActivities(deps: { pool: Pool; registry: ProviderRegistry; settings: CostAnomalySettings }) {
  const reports = createCostReports(deps.pool, deps.registry);
  return {
    async evaluateCostAnomalies(input: CostAnomalyCheckInput): Promise<CostAnomaly[]> {
      return reports.anomalies(deps.settings, input);
    },
  };
}
