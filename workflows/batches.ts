/**
 * batch: one durable queue per (tenant, provider, operation, priority). Items arrive by
 * update-with-start and are durable once the update is accepted (they live in the workflow's
 * history, so a worker dying before the flush loses nothing). The queue flushes when it reaches
 * the provider's batch size, when its items' cost reaches the provider's cost threshold, when it
 * holds the size its observed arrival rate fills within the wait (batch-flush.ts), or when its
 * oldest item has waited the priority's maximum wait. A flush is
 * one request per distinct message with every recipient in it (`grouped`: SendGrid
 * personalizations, Twilio Notify bindings), one request to a generic batch endpoint with a result
 * per item (`items`), or one call per item, bounded (`fan-out`); each on the provider's
 * rate-limited task queue with the priority's task-queue priority. Duplicates inside the dedup window share the first item's result. A flush
 * reserves its items' cost against the provider's budget first, like a single call. The workflow
 * continues as new when its history grows and ends after a quiet dedup window.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import {
  addItemUpdate,
  awaitItemUpdate,
  batchStatusQuery,
  itemStatusQuery,
  type BatchCarry,
  type BatchItem,
  type BatchKey,
  type BatchPlan,
  type FlushReason,
  type ItemResult,
  type QueuedItem,
} from '../contracts/batch';
import { providerErrorTypes } from '../contracts/errors';
import { adaptiveBatchSize, flushReasonNow, observedArrivalRate, recentArrivals, type FlushLimits } from './batch-flush';
import { localActivityOptions, remoteActivityOptions } from './policies';
import { failureOf } from './steps';

type Activities = ReturnType<typeof createActivities>;

/** One result of a generic batch endpoint (providers/http/adapter.ts). */
interface ItemAnswer {
  id: string;
  status: number;
  body?: unknown;
}

const { planBatch } = proxyLocalActivities<Activities>(localActivityOptions('planBatch'));
const { recordBatch } = proxyLocalActivities<Activities>(localActivityOptions('recordBatch'));
const { reserveBudget } = proxyLocalActivities<Activities>(localActivityOptions('reserveBudget'));
const { settleBudget } = proxyLocalActivities<Activities>(localActivityOptions('settleBudget'));
const { releaseBudget } = proxyLocalActivities<Activities>(localActivityOptions('releaseBudget'));

/** Updates per run before continuing as new: the server caps a run's updates (history.maxTotalUpdates, 2000 by default). */
const UPDATES_PER_RUN = 1000;

export async function batch(key: BatchKey, carry: BatchCarry = { queue: [], dedup: [] }): Promise<void> {
  const queue: QueuedItem[] = [...carry.queue];
  const dedup = new Map(carry.dedup);
  // The observed arrival rate (adaptive sizing): acceptance times over the last wait period,
  // watched since the batch's first item (carried across continue-as-new).
  let arrivals: number[] = [...(carry.arrivals ?? [])];
  let observedSince = carry.observedSince;
  const results = new Map<string, ItemResult>();
  let sent = 0;
  let flushes = 0;
  let dedupHits = 0;
  let updates = 0;

  // Read before the first local activity, so the marker is the run's first command (see the same
  // read in workflows/webhooks.ts); runs recorded before it find their marker at the flush's read.
  // The unbudgeted branch can go once no batch run started before budgets is open or within the
  // namespace's retention (a run lasts at most its flushes and a dedup window, then continues as
  // new): deprecatePatch() for one release, then nothing.
  const budgetPatched = patched('batch-budget');
  const plan: BatchPlan = await planBatch(key);
  const { callProvider } = proxyActivities<Activities>({
    ...remoteActivityOptions('callProvider', plan.taskQueue),
    priority: { priorityKey: plan.priorityKey },
  });

  const flushLimits: FlushLimits = {
    maxSize: plan.maxSize,
    maxWaitMs: plan.maxWaitMs,
    costThresholdUsd: plan.costThresholdUsd ?? null,
    costUsdPerItem: plan.costUsdPerItem ?? 0,
  };
  /** The size the observed rate fills within the wait (maxSize when sizing is fixed). Workflow time, so replay sees the same. */
  const flushSizeNow = (): number =>
    plan.adaptiveSize && observedSince !== undefined
      ? adaptiveBatchSize(observedArrivalRate(arrivals, Date.now(), plan.maxWaitMs, observedSince), plan)
      : plan.maxSize;

  const pruneDedup = (now: number): void => {
    for (const [k, [, expires]] of dedup) if (expires <= now) dedup.delete(k);
  };

  setHandler(batchStatusQuery, () => ({ queued: queue.length, sent }));
  /** Items of the flush in progress: out of the queue, no result yet. They still read as queued. */
  const sending = new Set<string>();
  const pending = (itemId: string): boolean => sending.has(itemId) || queue.some((item) => item.itemId === itemId);
  setHandler(itemStatusQuery, (itemId) => results.get(itemId)?.status ?? (pending(itemId) ? 'queued' : null));
  setHandler(
    addItemUpdate,
    (item) => {
      updates++;
      const now = Date.now();
      pruneDedup(now);
      const first = dedup.get(item.dedupKey);
      if (first) {
        // The caller gets the first item's id, hence its result; no second provider request.
        dedupHits++;
        return { itemId: first[0], duplicateOf: first[0] };
      }
      dedup.set(item.dedupKey, [item.itemId, now + plan.dedupWindowMs]);
      queue.push({ ...item, acceptedAt: now });
      observedSince ??= now;
      arrivals = recentArrivals([...arrivals, now], now, plan.maxWaitMs, plan.maxSize);
      return { itemId: item.itemId, duplicateOf: null };
    },
    {
      validator: (item: BatchItem) => {
        if (!item.itemId || !item.dedupKey) throw new Error('an item needs itemId and dedupKey');
      },
    },
  );
  setHandler(
    awaitItemUpdate,
    async (itemId) => {
      await condition(() => results.has(itemId));
      return results.get(itemId)!;
    },
    {
      // Only items of this run can be awaited; older ones are answered from PostgreSQL by the API.
      validator: (itemId: string) => {
        if (!results.has(itemId) && !pending(itemId)) throw new Error(`${itemId} is not in this batch run`);
      },
    },
  );

  const callOne = async (operation: string, params: Record<string, unknown>) =>
    callProvider({ tenant: key.tenant, provider: key.provider, operation, params });

  /** Sends one flush's items; every item gets its own result, a failure touches only its items. */
  async function send(items: QueuedItem[]): Promise<{ results: ItemResult[]; requests: number }> {
    const out: ItemResult[] = [];
    let requests = 0;
    const sendEach = async (group: QueuedItem[]): Promise<void> => {
      for (let i = 0; i < group.length; i += plan.concurrency) {
        await Promise.all(
          group.slice(i, i + plan.concurrency).map(async (item) => {
            requests++;
            try {
              const r = await callOne(key.operation, item.params);
              out.push({ itemId: item.itemId, status: 'sent', data: r.data, error: null, batchSize: 1 });
            } catch (err) {
              out.push({ itemId: item.itemId, status: 'failed', data: null, error: failureOf(err).message, batchSize: 1 });
            }
          }),
        );
      }
    };
    const batchOperation = plan.batchOperation;
    if (!batchOperation || (plan.mode !== 'grouped' && plan.mode !== 'items')) {
      await sendEach(items);
      return { results: out, requests };
    }
    const failAll = (group: QueuedItem[], err: unknown): void => {
      for (const item of group) out.push({ itemId: item.itemId, status: 'failed', data: null, error: failureOf(err).message, batchSize: group.length });
    };
    if (plan.mode === 'items') {
      // A generic batch endpoint answers per item; an item without an answer fails alone.
      requests++;
      try {
        const r = await callOne(batchOperation, { items: items.map((item) => ({ id: item.itemId, body: item.params.body })) });
        const answers = new Map((r.data.results as ItemAnswer[]).map((a) => [a.id, a]));
        for (const item of items) {
          const a = answers.get(item.itemId);
          const ok = a !== undefined && a.status < 400;
          out.push({
            itemId: item.itemId,
            status: ok ? 'sent' : 'failed',
            data: a ? { status: a.status, body: a.body ?? null } : null,
            error: ok ? null : a ? `the provider answered ${a.status} for this item` : 'the batch endpoint gave no result for this item',
            batchSize: items.length,
          });
        }
      } catch (err) {
        failAll(items, err);
      }
      return { results: out, requests };
    }
    // grouped: one request per distinct message; the recipient fields vary inside it.
    const groups = new Map<string, QueuedItem[]>();
    for (const item of items) {
      const shared = Object.entries(item.params).filter(([field]) => !plan.recipientFields.includes(field));
      const groupKey = JSON.stringify(shared.sort(([a], [b]) => (a < b ? -1 : 1)));
      groups.set(groupKey, [...(groups.get(groupKey) ?? []), item]);
    }
    for (const group of groups.values()) {
      const shared = Object.fromEntries(Object.entries(group[0]!.params).filter(([field]) => !plan.recipientFields.includes(field)));
      const recipients = group.map((item) => Object.fromEntries(plan.recipientFields.filter((f) => f in item.params).map((f) => [f, item.params[f]])));
      requests++;
      try {
        const r = await callOne(batchOperation, { ...shared, recipients });
        // An operation that answers per recipient (`recipientResults`, in the recipients' order: Sheets ranges) gives each item its own result.
        const own = Array.isArray(r.data.recipientResults) && r.data.recipientResults.length === group.length ? (r.data.recipientResults as Record<string, unknown>[]) : null;
        group.forEach((item, i) => out.push({ itemId: item.itemId, status: 'sent', data: own?.[i] ?? r.data, error: null, batchSize: group.length }));
      } catch (err) {
        // A request refused for its content (e.g. one bad address) is split, so only the bad item fails.
        if (failureOf(err).type === providerErrorTypes.rejected && group.length > 1) await sendEach(group);
        else failAll(group, err);
      }
    }
    return { results: out, requests };
  }

  /**
   * A flush is budgeted like a provider call: its items' cost is reserved first (a refusal fails
   * every item with the reason and sends nothing), then settled for the items sent, or released.
   */
  async function sendBudgeted(items: QueuedItem[]): Promise<{ results: ItemResult[]; requests: number }> {
    const costUsd = plan.costUsdPerItem ?? 0;
    if (costUsd <= 0) return send(items);
    const { workflowId, runId } = workflowInfo();
    const reservation = `${workflowId}:${runId}:flush:${flushes}`;
    try {
      await reserveBudget({
        reservation,
        tenant: key.tenant,
        provider: key.provider,
        operation: key.operation,
        workflowId,
        amountUsd: items.length * costUsd,
        critical: false,
      });
    } catch (err) {
      const error = failureOf(err).message;
      return { results: items.map((item) => ({ itemId: item.itemId, status: 'failed', data: null, error, batchSize: items.length })), requests: 0 };
    }
    const flushed = await send(items);
    const sentItems = flushed.results.filter((r) => r.status === 'sent').length;
    if (sentItems > 0) await settleBudget(reservation, sentItems * costUsd);
    else await releaseBudget(reservation);
    return flushed;
  }

  while (true) {
    const busy = await condition(() => queue.length > 0, plan.dedupWindowMs);
    if (!busy) {
      // A quiet dedup window: nothing queued, nothing left to deduplicate; the next item starts a new run.
      await condition(allHandlersFinished);
      if (queue.length === 0) return;
    }
    const due = queue[0]!.acceptedAt + plan.maxWaitMs - Date.now();
    // Adaptive size and cost threshold flush before the wait runs out; runs recorded before them
    // waited for maxSize or the wait (their histories replay that path). A run started before them
    // takes the new rule from its next flush on, with its plan's (absent: fixed, no threshold) limits.
    // The old branch can go once no batch run from before is open or within retention.
    const adaptivePatched = patched('batch-adaptive-flush');
    const reasonNow = (): FlushReason | null =>
      flushReasonNow(queue.length, Date.now() - queue[0]!.acceptedAt, flushSizeNow(), flushLimits);
    if (due > 0) {
      if (adaptivePatched) await condition(() => reasonNow() !== null, due);
      else await condition(() => queue.length >= plan.maxSize, due);
    }
    const flushReason: FlushReason = adaptivePatched ? (reasonNow() ?? 'wait') : queue.length >= plan.maxSize ? 'size' : 'wait';

    const items = queue.splice(0, plan.maxSize);
    for (const item of items) sending.add(item.itemId);
    const now = Date.now();
    const flushed = budgetPatched || patched('batch-budget') ? await sendBudgeted(items) : await send(items);
    for (const r of flushed.results) results.set(r.itemId, r);
    sending.clear();
    sent += items.length;
    flushes++;
    await recordBatch({
      key,
      workflowId: workflowInfo().workflowId,
      results: flushed.results,
      providerRequests: flushed.requests,
      waitsMs: items.map((item) => now - item.acceptedAt),
      dedupHits,
      flushReason,
    });
    dedupHits = 0;
    if (flushes >= plan.flushesPerRun || updates >= UPDATES_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      pruneDedup(Date.now());
      await continueAsNew<typeof batch>(key, { queue: queue.splice(0), dedup: [...dedup], arrivals, observedSince });
    }
  }
}
