/**
 * When a batch flushes: the size the observed arrival rate fills within the priority's wait
 * (adaptive sizing), the cost threshold, and the reason a flush went. Pure functions of workflow
 * state and workflow time (the batch workflow passes Date.now(), Temporal's deterministic clock),
 * so the batch workflow can use them and unit tests can pin them down.
 *
 * The rule (docs/BATCHING.md "Adaptive size and cost threshold"): a batch expects as many items in
 * the next wait period as arrived in the last one, so it flushes once it holds that many: a trickle
 * (fewer than one item per wait) goes out at once instead of waiting, a burst grows the size up to
 * `maxSize`. A batch that has just started has no evidence of a slow rate: its rate is counted over
 * the time since its first item, so the items that start it keep the fixed rule (`maxSize` or the
 * wait).
 */

import type { FlushReason } from '../contracts/batch';

export interface FlushLimits {
  maxSize: number;
  maxWaitMs: number;
  /** Flush once the queued items' cost reaches this (USD); null: no threshold. */
  costThresholdUsd: number | null;
  /** The registry's cost of one item (its operation's costUsd). */
  costUsdPerItem: number;
}

/**
 * Items per second accepted over the last `windowMs` of workflow time, counted from `arrivals`
 * (acceptance times, ms). A batch that has been watching for less than a window (`observedSince`)
 * divides by what it watched; null when it has watched no time at all (no evidence yet).
 */
export function observedArrivalRate(arrivals: readonly number[], now: number, windowMs: number, observedSince: number): number | null {
  const watchedMs = Math.min(windowMs, now - observedSince);
  if (watchedMs <= 0) return null;
  const recent = arrivals.filter((at) => at > now - windowMs && at <= now).length;
  return (recent * 1000) / watchedMs;
}

/**
 * The batch size the rate fills within one wait: ceil(rate × maxWait), at least 1 and at most
 * maxSize. No rate yet (null) keeps maxSize, the fixed rule.
 */
export function adaptiveBatchSize(ratePerSecond: number | null, limits: Pick<FlushLimits, 'maxSize' | 'maxWaitMs'>): number {
  if (ratePerSecond === null) return limits.maxSize;
  const expected = Math.ceil((ratePerSecond * limits.maxWaitMs) / 1000 - 1e-9);
  return Math.min(limits.maxSize, Math.max(1, expected));
}

/** The queued items' cost reaches the threshold (a float tolerance, so 100 × $0.001 reaches $0.10). */
export function costThresholdReached(queued: number, limits: Pick<FlushLimits, 'costThresholdUsd' | 'costUsdPerItem'>): boolean {
  if (limits.costThresholdUsd === null || limits.costUsdPerItem <= 0 || queued === 0) return false;
  return queued * limits.costUsdPerItem >= limits.costThresholdUsd - 1e-9;
}

/**
 * Why a queue of `queued` items whose oldest waited `waitedMs` flushes now, or null when it keeps
 * waiting. `adaptiveSize` is adaptiveBatchSize's answer (maxSize when sizing is fixed).
 */
export function flushReasonNow(queued: number, waitedMs: number, adaptiveSize: number, limits: FlushLimits): FlushReason | null {
  if (queued === 0) return null;
  if (queued >= limits.maxSize) return 'size';
  if (costThresholdReached(queued, limits)) return 'cost';
  if (waitedMs >= limits.maxWaitMs) return 'wait';
  if (queued >= adaptiveSize) return 'rate';
  return null;
}

/** The arrivals still needed: those inside the window, at most `keep` (more cannot raise a size capped at maxSize). */
export function recentArrivals(arrivals: readonly number[], now: number, windowMs: number, keep: number): number[] {
  return arrivals.filter((at) => at > now - windowMs).slice(-keep);
}
