/**
 * Batch items (`batch_items`): one row per sent or failed item of a batch flush, with its own
 * result, written once by the batch activity. The API answers an item's result and lists the
 * tenant's items from it (queued items are in their batch workflow, not here).
 */
import type { Pool } from 'pg';
import type { BatchRecord, FlushReason } from '../../contracts/batch';

type Queryable = Pick<Pool, 'query'>;

export interface BatchItemRow {
  status: string;
  result: Record<string, unknown> | null;
  error: string | null;
  batch_size: number;
  flush_reason: FlushReason | null;
  sent_at: Date;
}

export interface BatchItemListRow {
  item_id: string;
  provider: string;
  operation: string;
  priority: string;
  status: 'sent' | 'failed';
  error: string | null;
  batch_size: number;
  flush_reason: FlushReason | null;
  batch_workflow_id: string;
  sent_at: Date;
}

/** Inserts the flush's items, each once (ON CONFLICT DO NOTHING); returns how many were new. */
export async function insertBatchItems(pool: Queryable, record: BatchRecord): Promise<number> {
  const { key } = record;
  let recorded = 0;
  for (const r of record.results) {
    const res = await pool.query(
      `INSERT INTO batch_items (item_id, tenant, provider, operation, priority, status, result, error, batch_size, batch_workflow_id, flush_reason)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (item_id) DO NOTHING`,
      [r.itemId, key.tenant, key.provider, key.operation, key.priority, r.status, r.data, r.error, r.batchSize, record.workflowId, record.flushReason ?? null],
    );
    recorded += res.rowCount ?? 0;
  }
  return recorded;
}

/** One item's stored result, once its flush recorded it. */
export async function batchItemResult(pool: Queryable, tenant: string, itemId: string): Promise<BatchItemRow | undefined> {
  const { rows } = await pool.query<BatchItemRow>('SELECT status, result, error, batch_size, flush_reason, sent_at FROM batch_items WHERE tenant = $1 AND item_id = $2', [
    tenant,
    itemId,
  ]);
  return rows[0];
}

export interface BatchItemFilters {
  provider?: string;
  operation?: string;
  status?: string;
  from?: string | Date;
  to?: string | Date;
  limit: number;
}

/** The tenant's sent and failed items, newest first. */
export async function listBatchItems(pool: Queryable, tenant: string, q: BatchItemFilters): Promise<BatchItemListRow[]> {
  const { rows } = await pool.query<BatchItemListRow>(
    `SELECT item_id, provider, operation, priority, status, error, batch_size, flush_reason, batch_workflow_id, sent_at FROM batch_items
      WHERE tenant = $1 AND ($2::text IS NULL OR provider = $2) AND ($3::text IS NULL OR operation = $3)
        AND ($4::text IS NULL OR status = $4) AND ($5::timestamptz IS NULL OR sent_at >= $5)
        AND ($6::timestamptz IS NULL OR sent_at < $6)
      ORDER BY sent_at DESC, item_id LIMIT $7`,
    [tenant, q.provider ?? null, q.operation ?? null, q.status ?? null, q.from ?? null, q.to ?? null, q.limit],
  );
  return rows;
}

export interface BatchSavingsRow {
  provider: string;
  operation: string;
  items: number;
  failed: number;
  /** Provider requests that carried them: each item carries 1/batch_size of its request. */
  provider_requests: number;
}

/**
 * The tenant's flushed items per provider and operation sent in [from, to), and the provider
 * requests that carried them (batch_size is the items of the item's own request, so a request
 * of n items is n rows of 1/n: summed and rounded, the requests made).
 */
export async function batchSavings(pool: Queryable, tenant: string, range: { from: Date; to: Date }): Promise<BatchSavingsRow[]> {
  const { rows } = await pool.query<BatchSavingsRow>(
    `SELECT provider, operation, count(*)::int AS items, (count(*) FILTER (WHERE status = 'failed'))::int AS failed,
            round(sum(1.0 / greatest(batch_size, 1)))::int AS provider_requests
       FROM batch_items WHERE tenant = $1 AND sent_at >= $2 AND sent_at < $3
      GROUP BY provider, operation ORDER BY provider, operation`,
    [tenant, range.from, range.to],
  );
  return rows;
}
