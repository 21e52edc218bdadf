/**
 * The webhook ledger (`webhook_events`): one row per (tenant, provider, event id), inserted once.
 * It is the long-horizon duplicate guard (Temporal's id reuse policy only lasts as long as the
 * namespace retention) and what people query in SQL. The ledger activities write it, deliveries
 * read an event's body from it, and the API lists, shows and retries events from it.
 */
import type { Pool } from 'pg';
import type { LedgerUpdate, WebhookEvent, WebhookState } from '../../contracts/webhook';
import { bucketOf, bucketParams, inRange, type TimeBuckets } from './time-buckets';

type Queryable = Pick<Pool, 'query'>;

export interface LedgerRow {
  tenant: string;
  provider: string;
  event_id: string;
  event_type: string;
  workflow_id: string;
  status: string;
  outcome: string | null;
  handler: string | null;
  last_error: string | null;
  /** NULL once retention pruned the body (payload_pruned_at); the row and its dedup key stay. */
  payload: Record<string, unknown> | null;
  payload_pruned_at: Date | null;
  received_at: Date;
  completed_at: Date | null;
  /** NULL while the row waits in the inbox for its workflow's start. */
  started_at: Date | null;
}

/**
 * Inserts the event's row unless it is there (ON CONFLICT DO NOTHING): inserted exactly once
 * however many times the activity is retried or the event redelivered. True when this call inserted it.
 */
export async function insertWebhookEvent(
  pool: Queryable,
  event: WebhookEvent,
  execution: { workflowId: string; runId: string | null },
): Promise<boolean> {
  const inserted = await pool.query<{ status: WebhookState }>(
    `INSERT INTO webhook_events
       (tenant, provider, event_id, event_type, workflow_id, run_id, status, payload, received_at, started_at)
     VALUES ($1, $2, $3, $4, $5, $6, 'received', $7, $8, now())
     ON CONFLICT (tenant, provider, event_id) DO NOTHING
     RETURNING status`,
    [
      event.tenant,
      event.provider,
      event.eventId,
      event.eventType,
      execution.workflowId,
      execution.runId,
      event.payload,
      event.receivedAt,
    ],
  );
  return inserted.rowCount === 1;
}

/** The stored event's status and the run that recorded it. */
export async function webhookEventState(
  pool: Queryable,
  key: { tenant: string; provider: string; eventId: string },
): Promise<{ status: WebhookState; run_id: string | null } | undefined> {
  const existing = await pool.query<{ status: WebhookState; run_id: string | null }>(
    'SELECT status, run_id FROM webhook_events WHERE tenant = $1 AND provider = $2 AND event_id = $3',
    [key.tenant, key.provider, key.eventId],
  );
  return existing.rows[0];
}

/** Records the event's outcome; true when its row was there. */
export async function updateWebhookEvent(pool: Queryable, update: LedgerUpdate): Promise<boolean> {
  const result = await pool.query(
    `UPDATE webhook_events
        SET status = $4, handler = $5, outcome = $6, last_error = $7, completed_at = now()
      WHERE tenant = $1 AND provider = $2 AND event_id = $3`,
    [update.tenant, update.provider, update.eventId, update.status, update.handler, update.outcome, update.lastError],
  );
  return result.rowCount === 1;
}

/** The event's body (null once pruned by retention) and when it was received. */
export async function webhookEventBody(
  pool: Queryable,
  key: { tenant: string; provider: string; eventId: string },
): Promise<{ payload: unknown; received_at: Date } | undefined> {
  return (
    await pool.query<{ payload: unknown; received_at: Date }>(
      'SELECT payload, received_at FROM webhook_events WHERE tenant = $1 AND provider = $2 AND event_id = $3',
      [key.tenant, key.provider, key.eventId],
    )
  ).rows[0];
}

/** The ledger row of one workflow id in one tenant. */
export async function webhookEventOfWorkflow(pool: Queryable, tenant: string, workflowId: string): Promise<LedgerRow | undefined> {
  const { rows } = await pool.query<LedgerRow>('SELECT * FROM webhook_events WHERE tenant = $1 AND workflow_id = $2', [tenant, workflowId]);
  return rows[0];
}

export interface WebhookEventFilters {
  provider?: string;
  type?: string;
  status?: string;
  from?: string | Date;
  to?: string | Date;
  limit: number;
  /** Rows skipped before this page (newest first). */
  offset?: number;
}

export interface WebhookBucketRow {
  bucket: Date;
  received: number;
  completed: number;
  failed: number;
}

/** The tenant's recorded events per time bucket of their arrival, and how many of them completed or failed. */
export async function webhookVolumeSeries(pool: Queryable, tenant: string, buckets: TimeBuckets): Promise<WebhookBucketRow[]> {
  const { rows } = await pool.query<WebhookBucketRow>(
    `SELECT ${bucketOf('received_at')} AS bucket, count(*)::int AS received,
            (count(*) FILTER (WHERE status = 'completed'))::int AS completed, (count(*) FILTER (WHERE status = 'failed'))::int AS failed
       FROM webhook_events WHERE tenant = $4 AND ${inRange('received_at')}
      GROUP BY 1 ORDER BY 1`,
    [...bucketParams(buckets), tenant],
  );
  return rows;
}

/** One page of the tenant's events, newest first, and how many match the filters in all. */
export async function listWebhookEvents(pool: Queryable, tenant: string, q: WebhookEventFilters): Promise<{ rows: LedgerRow[]; total: number }> {
  const where = `WHERE tenant = $1 AND ($2::text IS NULL OR provider = $2) AND ($3::text IS NULL OR event_type = $3)
        AND ($4::text IS NULL OR status = $4) AND ($5::timestamptz IS NULL OR received_at >= $5)
        AND ($6::timestamptz IS NULL OR received_at < $6)`;
  const filters = [tenant, q.provider ?? null, q.type ?? null, q.status ?? null, q.from ?? null, q.to ?? null];
  const [{ rows }, counted] = await Promise.all([
    pool.query<LedgerRow>(`SELECT * FROM webhook_events ${where} ORDER BY received_at DESC, workflow_id LIMIT $7 OFFSET $8`, [...filters, q.limit, q.offset ?? 0]),
    pool.query<{ total: string }>(`SELECT count(*) AS total FROM webhook_events ${where}`, filters),
  ]);
  return { rows, total: Number(counted.rows[0]?.total ?? 0) };
}

/** The tenant's completed events received since `since`, oldest first (a subscriber's replay). */
export async function completedWebhookEventsSince(
  pool: Queryable,
  tenant: string,
  since: string | Date,
): Promise<Array<{ provider: string; event_id: string; event_type: string }>> {
  const { rows } = await pool.query<{ provider: string; event_id: string; event_type: string }>(
    `SELECT provider, event_id, event_type FROM webhook_events
      WHERE tenant = $1 AND received_at >= $2 AND status = 'completed' ORDER BY received_at`,
    [tenant, since],
  );
  return rows;
}

/**
 * Retention: empties at most `batchSize` event bodies older than `olderThanDays`; returns how many.
 * Rows are emptied, never deleted: the row is the long-horizon duplicate guard.
 */
export async function pruneLedgerBodies(pool: Queryable, olderThanDays: number, batchSize: number): Promise<number> {
  const result = await pool.query(
    `UPDATE webhook_events SET payload = NULL, payload_pruned_at = now()
      WHERE id IN (SELECT id FROM webhook_events
                    WHERE payload IS NOT NULL AND started_at IS NOT NULL AND received_at < now() - make_interval(days => $1)
                    ORDER BY received_at LIMIT $2
                    FOR UPDATE SKIP LOCKED)`,
    [olderThanDays, batchSize],
  );
  return result.rowCount ?? 0;
}
