/**
 * The webhook inbox: the ledger row (`webhook_events`) written by the API before it answers, and
 * read by the drainer (workers/inbox-drainer.ts) that starts `processWebhook` for every row whose
 * `started_at` is still NULL. One INSERT both records the event and detects a duplicate (the
 * ledger's unique key), and wakes the drainers with NOTIFY in the same statement.
 */
import type { Pool, PoolClient } from 'pg';
import type { WebhookEvent } from '../../contracts/webhook';

type Queryable = Pick<Pool, 'query'>;

/** The NOTIFY channel a committed inbox row wakes the drainers on (payload: the task queue). */
export const INBOX_CHANNEL = 'webhook_inbox';

export interface InboxEvent extends WebhookEvent {
  workflowId: string;
}

export interface InboxAnswer {
  eventId: string;
  workflowId: string;
  /** The run once the drainer started it; null while the row waits (always null for a fresh row). */
  runId: string | null;
  /** The ledger already held this (tenant, provider, event id). */
  duplicate: boolean;
}

/**
 * Commits the events' rows (one statement, autocommitted: durable when it returns) and answers
 * which were new. A row that was there is a duplicate; its run id is read back when it has one.
 */
export async function acceptIntoInbox(pool: Queryable, events: readonly InboxEvent[], taskQueue: string): Promise<InboxAnswer[]> {
  if (events.length === 0) return [];
  const column = <K extends keyof InboxEvent>(key: K): Array<InboxEvent[K]> => events.map((e) => e[key]);
  const { rows } = await pool.query<{ event_id: string }>(
    `WITH ins AS (
       INSERT INTO webhook_events (tenant, provider, event_id, event_type, workflow_id, status, payload, received_at, task_queue)
       SELECT t, p, e, ty, w, 'received', pl, r, $9
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::timestamptz[]) AS v(t, p, e, ty, w, pl, r)
       ON CONFLICT (tenant, provider, event_id) DO NOTHING
       RETURNING event_id)
     SELECT ins.event_id, pg_notify($8, $9) FROM ins`,
    [
      column('tenant'),
      column('provider'),
      column('eventId'),
      column('eventType'),
      column('workflowId'),
      events.map((e) => JSON.stringify(e.payload)),
      column('receivedAt'),
      INBOX_CHANNEL,
      taskQueue,
    ],
  );
  const inserted = new Set(rows.map((r) => r.event_id));
  // An id twice in one request: the first is the new one, the second its duplicate.
  const firstOfId = new Set<InboxEvent>();
  const seen = new Set<string>();
  for (const e of events) if (!seen.has(e.eventId) && seen.add(e.eventId)) firstOfId.add(e);
  const isFresh = (e: InboxEvent): boolean => inserted.has(e.eventId) && firstOfId.has(e);
  const duplicates = events.filter((e) => !isFresh(e));
  const runs = new Map<string, string | null>();
  if (duplicates.length > 0) {
    const existing = await pool.query<{ workflow_id: string; run_id: string | null }>(
      // Every event of one request has the request's tenant and provider: the ledger's unique key.
      'SELECT workflow_id, run_id FROM webhook_events WHERE tenant = $1 AND provider = $2 AND event_id = ANY($3::text[])',
      [events[0]!.tenant, events[0]!.provider, duplicates.map((e) => e.eventId)],
    );
    for (const row of existing.rows) runs.set(row.workflow_id, row.run_id);
  }
  return events.map((e) => ({
    eventId: e.eventId,
    workflowId: e.workflowId,
    runId: isFresh(e) ? null : (runs.get(e.workflowId) ?? null),
    duplicate: !isFresh(e),
  }));
}

export interface InboxRow {
  id: string;
  workflow_id: string;
  tenant: string;
  provider: string;
  event_id: string;
  event_type: string;
  payload: Record<string, unknown> | null;
  received_at: Date;
}

/**
 * Locks up to `limit` waiting rows of the task queue, oldest first, skipping rows another drainer
 * holds (FOR UPDATE SKIP LOCKED). Call inside a transaction on `client`; the locks last until it ends.
 */
export async function claimInboxRows(client: PoolClient, taskQueue: string, limit: number): Promise<InboxRow[]> {
  const { rows } = await client.query<InboxRow>(
    `SELECT id, workflow_id, tenant, provider, event_id, event_type, payload, received_at
       FROM webhook_events
      WHERE started_at IS NULL AND task_queue = $1
      ORDER BY received_at, id
      LIMIT $2
      FOR UPDATE SKIP LOCKED`,
    [taskQueue, limit],
  );
  return rows;
}

/** Records that these rows' workflows were started (or found already started), with their run ids. */
export async function markInboxStarted(client: Queryable, started: ReadonlyArray<{ id: string; runId: string }>): Promise<void> {
  if (started.length === 0) return;
  await client.query(
    `UPDATE webhook_events w SET started_at = now(), run_id = COALESCE(w.run_id, v.run_id)
       FROM unnest($1::bigint[], $2::text[]) AS v(id, run_id)
      WHERE w.id = v.id`,
    [started.map((s) => s.id), started.map((s) => s.runId)],
  );
}

export interface InboxBacklog {
  /** Committed rows whose workflow is not started yet. */
  unstarted: number;
  /** Seconds since the oldest of them was received; 0 when there is none. */
  oldestAgeSeconds: number;
}

/** The inbox's waiting rows, of one task queue or of all. */
export async function inboxBacklog(pool: Queryable, taskQueue?: string): Promise<InboxBacklog> {
  const { rows } = await pool.query<{ unstarted: number; oldest: number | null }>(
    `SELECT count(*)::int AS unstarted, extract(epoch FROM now() - min(received_at))::float8 AS oldest
       FROM webhook_events WHERE started_at IS NULL AND ($1::text IS NULL OR task_queue = $1)`,
    [taskQueue ?? null],
  );
  const row = rows[0];
  return { unstarted: row?.unstarted ?? 0, oldestAgeSeconds: Math.max(0, row?.oldest ?? 0) };
}
