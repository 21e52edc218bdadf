/**
 * The batch workflow's bookkeeping: its plan (size, wait, mode, adaptive sizing, cost threshold,
 * task queue) from the registry, and the record of each flush: one PostgreSQL row per item with its
 * own result and the flush's reason (lib/data/batch-items.ts), plus the batching metrics (items,
 * provider requests, sizes, flush reasons, waits, dedup hits, reduction ratio).
 */
import type { Pool } from 'pg';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { operationCost, providerNamed, type ProviderRegistry } from '../lib/config/registry';
import { insertBatchItems } from '../lib/data/batch-items';
import { publishEvent } from '../lib/data/event-stream';
import type { BatchKey, BatchPlan, BatchPriority, BatchRecord } from '../contracts/batch';

export const batchMetricsRegistry = new Registry();
const itemsTotal = new Counter({
  name: 'batch_items_total',
  help: 'Batched items flushed, by provider, operation and status',
  labelNames: ['provider', 'operation', 'status'],
  registers: [batchMetricsRegistry],
});
const requestsTotal = new Counter({
  name: 'batch_provider_requests_total',
  help: 'Provider requests made by batch flushes',
  labelNames: ['provider', 'operation'],
  registers: [batchMetricsRegistry],
});
const dedupHitsTotal = new Counter({
  name: 'batch_dedup_hits_total',
  help: 'Items answered with an earlier identical item inside the dedup window',
  labelNames: ['provider', 'operation'],
  registers: [batchMetricsRegistry],
});
const batchSize = new Histogram({
  name: 'batch_size_items',
  help: 'Items per flush',
  labelNames: ['provider', 'operation'],
  buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
  registers: [batchMetricsRegistry],
});
const waitSeconds = new Histogram({
  name: 'batch_item_wait_seconds',
  help: 'Time from acceptance to flush per item, by priority',
  labelNames: ['provider', 'priority'],
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
  registers: [batchMetricsRegistry],
});
const reduction = new Gauge({
  name: 'batch_request_reduction_ratio',
  help: '1 - provider requests / items, per provider, since the worker started',
  labelNames: ['provider'],
  registers: [batchMetricsRegistry],
});
const flushesTotal = new Counter({
  name: 'batch_flushes_total',
  help: 'Batch flushes by why they went: size, cost (threshold), rate (the observed rate size) or wait',
  labelNames: ['provider', 'operation', 'reason'],
  registers: [batchMetricsRegistry],
});
const totals = new Map<string, { items: number; requests: number }>();

/**
 * The flush on the live stream (topic `batching`, the tenant's): its size, the items' waits and
 * the provider requests it saved. Best effort: the rows are written, a lost notice is not retried.
 */
async function publishFlush(pool: Pool, record: BatchRecord): Promise<void> {
  const { key } = record;
  const waits = [...record.waitsMs].sort((a, b) => a - b);
  const items = record.results.length;
  try {
    await publishEvent(pool, {
      topic: 'batching',
      tenant: key.tenant,
      data: {
        provider: key.provider,
        operation: key.operation,
        priority: key.priority,
        flushSize: items,
        providerRequests: record.providerRequests,
        requestsSaved: Math.max(items - record.providerRequests, 0),
        reductionRatio: items > 0 ? 1 - record.providerRequests / items : 0,
        dedupHits: record.dedupHits,
        waitMsMax: waits.at(-1) ?? 0,
        waitMsMedian: waits.length > 0 ? waits[Math.floor((waits.length - 1) / 2)]! : 0,
      },
    });
  } catch {
    // The stream is a view: the flush is recorded whether or not its notice went out.
  }
}

const priorityKeys: Record<BatchPriority, number> = { high: 1, medium: 3, low: 5 };

export function createBatchActivities(pool: Pool, registry: ProviderRegistry, providerTaskQueuePrefix: string) {
  return {
    planBatch(key: BatchKey): Promise<BatchPlan> {
      const provider = providerNamed(registry, key.provider);
      // Batching declared for some operations only: the others' items go one call each.
      const declared = provider?.batch;
      const batch = declared && (!declared.appliesTo || declared.appliesTo.includes(key.operation)) ? declared : undefined;
      return Promise.resolve({
        maxSize: batch?.maxSize ?? 1,
        maxWaitMs: batch?.maxWaitMs[key.priority] ?? 0,
        dedupWindowMs: (batch?.dedupWindowSeconds ?? 60) * 1000,
        mode: batch?.mode ?? 'single',
        concurrency: batch?.concurrency ?? 10,
        batchOperation: batch?.batchOperation ?? null,
        recipientFields: batch?.recipientFields ?? ['to'],
        flushesPerRun: batch?.flushesPerRun ?? 50,
        taskQueue: `${providerTaskQueuePrefix}${key.provider}`,
        priorityKey: priorityKeys[key.priority],
        costUsdPerItem: operationCost(registry, key.provider, key.operation),
        adaptiveSize: batch?.adaptiveSize ?? false,
        costThresholdUsd: batch?.costThresholdUsd ?? null,
      });
    },

    async recordBatch(record: BatchRecord): Promise<{ recorded: number }> {
      const { key } = record;
      const recorded = await insertBatchItems(pool, record);
      // Metrics count each flush once, even when a retried record finds its rows already there.
      if (recorded > 0) {
        const labels = { provider: key.provider, operation: key.operation };
        for (const r of record.results) itemsTotal.inc({ ...labels, status: r.status });
        requestsTotal.inc(labels, record.providerRequests);
        dedupHitsTotal.inc(labels, record.dedupHits);
        batchSize.observe(labels, record.results.length);
        if (record.flushReason) flushesTotal.inc({ ...labels, reason: record.flushReason });
        for (const ms of record.waitsMs) waitSeconds.observe({ provider: key.provider, priority: key.priority }, ms / 1000);
        const total = totals.get(key.provider) ?? { items: 0, requests: 0 };
        total.items += record.results.length;
        total.requests += record.providerRequests;
        totals.set(key.provider, total);
        reduction.set({ provider: key.provider }, 1 - total.requests / total.items);
        await publishFlush(pool, record);
      }
      return { recorded };
    },
  };
}
