/**
 * Retention's database side: the configured ages, and one bounded batch of pruning per call so
 * no transaction holds many locks and the workflow can stop or continue between batches. Ledger
 * rows are emptied, never deleted: the row is the long-horizon duplicate guard, so a redelivery
 * long after its body is gone is still recognised. Deliveries are pruned only once finished.
 */
import type { Pool } from 'pg';
import { loadConfig } from '../lib/config/config';
import type { PruneBatchInput, RetentionDays, RetentionTarget } from '../contracts/retention';

/** One statement per target; $1 = age in days, $2 = batch size. Each returns the rows it touched. */
const pruneStatements: Record<RetentionTarget, string> = {
  ledgerBodies: `
    UPDATE webhook_events SET payload = NULL, payload_pruned_at = now()
     WHERE id IN (SELECT id FROM webhook_events
                   WHERE payload IS NOT NULL AND received_at < now() - make_interval(days => $1)
                   ORDER BY received_at LIMIT $2
                   FOR UPDATE SKIP LOCKED)`,
  deliveryAttempts: `
    DELETE FROM deliveries
     WHERE id IN (SELECT id FROM deliveries
                   WHERE status <> 'pending' AND updated_at < now() - make_interval(days => $1)
                   ORDER BY updated_at LIMIT $2
                   FOR UPDATE SKIP LOCKED)`,
  probeResults: `
    DELETE FROM probe_results
     WHERE id IN (SELECT id FROM probe_results
                   WHERE at < now() - make_interval(days => $1)
                   ORDER BY at LIMIT $2
                   FOR UPDATE SKIP LOCKED)`,
  costRows: `
    DELETE FROM cost_ledger
     WHERE id IN (SELECT id FROM cost_ledger
                   WHERE created_at < now() - make_interval(days => $1)
                   ORDER BY created_at LIMIT $2
                   FOR UPDATE SKIP LOCKED)`,
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
      const result = await pool.query(pruneStatements[input.target], [input.olderThanDays, input.batchSize]);
      return result.rowCount ?? 0;
    },
  };
}
