/**
 * Retention's database side: the configured ages, and one bounded batch of pruning per call so
 * no transaction holds many locks and the workflow can stop or continue between batches. Ledger
 * rows are emptied, never deleted: the row is the long-horizon duplicate guard, so a redelivery
 * long after its body is gone is still recognised. Deliveries are pruned only once finished.
 */
import type { Pool } from 'pg';
import { loadConfig } from '../lib/config/config';
import { pruneCostRows } from '../lib/data/budgets';
import { pruneFinishedDeliveries } from '../lib/data/deliveries';
import { pruneProbeResults } from '../lib/data/probes';
import { pruneCacheStats } from '../lib/data/provider-cache';
import { pruneRequestCounts } from '../lib/data/provider-requests';
import { pruneLedgerBodies } from '../lib/data/webhook-events';
import type { PruneBatchInput, RetentionDays, RetentionTarget } from '../contracts/retention';

/** One bounded prune per target, each in its table's data module; each returns the rows it touched. */
const pruners: Record<RetentionTarget, (pool: Pool, olderThanDays: number, batchSize: number) => Promise<number>> = {
  ledgerBodies: pruneLedgerBodies,
  deliveryAttempts: pruneFinishedDeliveries,
  // The minute request counters (recent use, throttles) age with the probe results; the hourly
  // cache counters (the performance report's savings) with the cost rows they are read beside.
  probeResults: async (pool, days, batch) => (await pruneProbeResults(pool, days, batch)) + (await pruneRequestCounts(pool, days, batch)),
  costRows: async (pool, days, batch) => (await pruneCostRows(pool, days, batch)) + (await pruneCacheStats(pool, days, batch)),
};

export function createRetentionActivities(pool: Pool, env: NodeJS.ProcessEnv) {
  return {
    /** The configured ages (read by the worker, so a change applies at the next run). */
    planRetention(): Promise<RetentionDays> {
      const config = loadConfig(env);
      return Promise.resolve({
        ledgerBodies: config.RETENTION_LEDGER_BODY_DAYS,
        deliveryAttempts: config.RETENTION_DELIVERY_ATTEMPTS_DAYS,
        probeResults: config.RETENTION_PROBE_RESULTS_DAYS,
        costRows: config.RETENTION_COST_ROWS_DAYS,
      });
    },

    /** Prunes at most `batchSize` rows of one target older than `olderThanDays`; returns how many. */
    async pruneBatch(input: PruneBatchInput): Promise<number> {
      return pruners[input.target](pool, input.olderThanDays, input.batchSize);
    },
  };
}
