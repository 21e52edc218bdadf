/**
 * `pruneData`, run daily by the `retention:daily` Schedule: for each retention target, batches of
 * `pruneBatch` until a batch comes back short, so a large backlog is pruned in bounded steps and
 * never in one long transaction. Continues as new after a bounded number of batches to keep its
 * history small, carrying what is done.
 */
import { continueAsNew, proxyLocalActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { localActivityOptions, retentionLimits } from './policies';
import { retentionTargets, type PruneDataInput, type PruneTotals, type RetentionTarget } from '../contracts/retention';

type Activities = ReturnType<typeof createActivities>;

const { planRetention } = proxyLocalActivities<Activities>(localActivityOptions('planRetention'));
const { pruneBatch } = proxyLocalActivities<Activities>(localActivityOptions('pruneBatch'));

export async function pruneData(input: PruneDataInput = {}): Promise<PruneTotals> {
  const batchSize = input.batchSize ?? retentionLimits.batchSize;
  const olderThanDays = { ...(await planRetention()), ...input.olderThanDays };
  const done: RetentionTarget[] = [...(input.progress?.done ?? [])];
  const totals: PruneTotals = { ledgerBodies: 0, deliveryAttempts: 0, probeResults: 0, costRows: 0, ...input.progress?.totals };
  let batches = 0;
  for (const target of retentionTargets) {
    if (done.includes(target)) continue;
    for (;;) {
      if (batches >= retentionLimits.batchesPerRun) {
        // The ages travel with the new run, so it prunes by the same cut-off as this one.
        await continueAsNew<typeof pruneData>({ batchSize, olderThanDays, progress: { done, totals } });
      }
      const pruned = await pruneBatch({ target, olderThanDays: olderThanDays[target], batchSize });
      batches += 1;
      totals[target] += pruned;
      if (pruned < batchSize) break;
    }
    done.push(target);
  }
  return totals;
}
