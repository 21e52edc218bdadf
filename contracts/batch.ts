/**
 * Shapes shared by the batch workflow, its activities and the API.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';

/** Critical items are never batched: the API sends them at once as a providerCall. */
export const batchPriorities = ['high', 'medium', 'low'] as const;
export type BatchPriority = (typeof batchPriorities)[number];

/**
 * Why a flush went: full (`size`), its items' cost reached the threshold (`cost`), it held the size
 * the observed arrival rate fills within the wait (`rate`), or its oldest item's wait ran out (`wait`).
 */
export const flushReasons = ['size', 'cost', 'rate', 'wait'] as const;
export type FlushReason = (typeof flushReasons)[number];

export interface BatchKey {
  tenant: string;
  provider: string;
  operation: string;
  priority: BatchPriority;
}

export interface BatchItem {
  itemId: string;
  params: Record<string, unknown>;
  /** Items with the same key inside the dedup window share the first item's result. */
  dedupKey: string;
}

export interface QueuedItem extends BatchItem {
  /** Workflow time (ms) the item was accepted. */
  acceptedAt: number;
}

export interface BatchPlan {
  maxSize: number;
  maxWaitMs: number;
  dedupWindowMs: number;
  /** See the registry's `batch.mode`; `single` = the provider has no batch config (one call per item). */
  mode: 'grouped' | 'items' | 'fan-out' | 'single';
  concurrency: number;
  batchOperation: string | null;
  /** `grouped` mode: the item params that differ per recipient. */
  recipientFields: string[];
  flushesPerRun: number;
  taskQueue: string;
  /** Task-queue priority of this batch's provider calls (1 = first). */
  priorityKey: number;
  /** The registry's cost of one item (its operation's costUsd); absent in plans recorded before batch budgets. */
  costUsdPerItem?: number;
  /** The registry's `batch.adaptiveSize`; absent in plans recorded before adaptive sizing (fixed). */
  adaptiveSize?: boolean;
  /** The registry's `batch.costThresholdUsd` (null: none); absent in plans recorded before it. */
  costThresholdUsd?: number | null;
}

/** What continue-as-new carries into the next run. */
export interface BatchCarry {
  queue: QueuedItem[];
  /** dedupKey → [first item id, workflow time (ms) it expires]. */
  dedup: Array<[string, [string, number]]>;
  /** Acceptance times (workflow ms) inside the last wait period, for the observed rate; absent in carries from before adaptive sizing. */
  arrivals?: number[];
  /** Workflow time (ms) the batch started watching its rate (the first run's start). */
  observedSince?: number;
}

export interface AddItemResult {
  itemId: string;
  /** Set when the item was a duplicate: the id whose result it shares. */
  duplicateOf: string | null;
}

export interface ItemResult {
  itemId: string;
  status: 'sent' | 'failed';
  data: Record<string, unknown> | null;
  error: string | null;
  /** Items in the provider request that carried this item. */
  batchSize: number;
}

export interface BatchRecord {
  key: BatchKey;
  workflowId: string;
  results: ItemResult[];
  /** Provider requests this flush made (the reduction ratio's numerator). */
  providerRequests: number;
  /** ms each item waited from acceptance to flush. */
  waitsMs: number[];
  /** Items answered with an earlier item's id since the last flush. */
  dedupHits: number;
  /** Why the flush went; absent in records of runs from before it was recorded. */
  flushReason?: FlushReason;
}

export const addItemUpdate = defineUpdate<AddItemResult, [BatchItem]>('addItem');
/** Resolves with the item's result once its batch was flushed (items of this run). */
export const awaitItemUpdate = defineUpdate<ItemResult, [string]>('awaitItem');
export const batchStatusQuery = defineQuery<{ queued: number; sent: number }>('status');
/** `queued` or the item's result status when the item belongs to this run; null otherwise. */
export const itemStatusQuery = defineQuery<'queued' | 'sent' | 'failed' | null, [string]>('itemStatus');

export function batchWorkflowId({ tenant, provider, operation, priority }: BatchKey): string {
  return `batch:${tenant}:${provider}:${operation}:${priority}`;
}

/** Item ids name their batch, so a lookup needs nothing else: `{provider}.{operation}.{priority}.{uuid}`. */
export function batchItemId(key: { provider: string; operation: string; priority: BatchPriority | 'critical' }, unique: string): string {
  return `${key.provider}.${key.operation}.${key.priority}.${unique}`;
}

export function batchKeyOfItem(tenant: string, itemId: string): BatchKey | null {
  const [provider, operation, priority] = itemId.split('.');
  if (!provider || !operation || !(batchPriorities as readonly string[]).includes(priority ?? '')) return null;
  return { tenant, provider, operation, priority: priority as BatchPriority };
}
