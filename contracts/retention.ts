/** Types shared by the pruneData workflow, its activities and its callers. */

/** What retention prunes; each has its own configured age (RETENTION_*_DAYS). */
export const retentionTargets = ['ledgerBodies', 'deliveryAttempts', 'probeResults', 'costRows'] as const;
export type RetentionTarget = (typeof retentionTargets)[number];

export type RetentionDays = Record<RetentionTarget, number>;

export interface PruneDataInput {
  /** Rows per batch (one activity, one short transaction); default 1000. */
  batchSize?: number;
  /** Overrides the configured ages (tests, one-off runs). */
  olderThanDays?: Partial<RetentionDays>;
  /** Carried across continueAsNew: what is already done. */
  progress?: { done: RetentionTarget[]; totals: Partial<RetentionDays> };
}

export interface PruneBatchInput {
  target: RetentionTarget;
  olderThanDays: number;
  batchSize: number;
}

/** Rows pruned per target (ledger rows emptied, other rows deleted). */
export type PruneTotals = RetentionDays;
