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

/** The ledger's unique key of an event. */
const keyOf = (e: { tenant: string; provider: string; eventId: string }): string => `${e.tenant}\u0000${e.provider}\u0000${e.eventId}`;

/**
 * Commits the events' rows (one statement, autocommitted: durable when it returns) and answers
 * which were new. A row that was there is a duplicate, and so is a second sighting of an event in
 * the same call; a duplicate's run id is read back when it has one.
 */
export async function acceptIntoInbox(
  pool: Queryable,
  events: readonly InboxEvent[],
  taskQueue: string,
  payloadJson: readonly string[] = events.map((e) => JSON.stringify(e.payload)),
): Promise<InboxAnswer[]> {
  if (events.length === 0) return [];
  const column = <K extends keyof InboxEvent>(key: K): Array<InboxEvent[K]> => events.map((e) => e[key]);
  const { rows } = await pool.query<{ tenant: string; provider: string; event_id: string }>(
    `WITH ins AS (
       INSERT INTO webhook_events (tenant, provider, event_id, event_type, workflow_id, status, payload, received_at, task_queue)
       SELECT t, p, e, ty, w, 'received', pl, r, $9
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::timestamptz[]) AS v(t, p, e, ty, w, pl, r)
       ON CONFLICT (tenant, provider, event_id) DO NOTHING
       RETURNING tenant, provider, event_id)
     SELECT ins.tenant, ins.provider, ins.event_id, pg_notify($8, $9) FROM ins`,
    [
      column('tenant'),
      column('provider'),
      column('eventId'),
      column('eventType'),
      column('workflowId'),
      payloadJson,
      column('receivedAt'),
      INBOX_CHANNEL,
      taskQueue,
    ],
  );
  const inserted = new Set(rows.map((r) => keyOf({ tenant: r.tenant, provider: r.provider, eventId: r.event_id })));
  // An event twice in one call: the first sighting is the new one, the second its duplicate.
  const fresh = new Set<InboxEvent>();
  for (const e of events) {
    if (inserted.delete(keyOf(e))) fresh.add(e);
  }
  const duplicates = events.filter((e) => !fresh.has(e));
  const runs = new Map<string, string | null>();
  if (duplicates.length > 0) {
    const existing = await pool.query<{ tenant: string; provider: string; event_id: string; run_id: string | null }>(
      `SELECT w.tenant, w.provider, w.event_id, w.run_id FROM webhook_events w
         JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(t, p, e) ON w.tenant = k.t AND w.provider = k.p AND w.event_id = k.e`,
      [duplicates.map((e) => e.tenant), duplicates.map((e) => e.provider), duplicates.map((e) => e.eventId)],
    );
    for (const row of existing.rows) runs.set(keyOf({ tenant: row.tenant, provider: row.provider, eventId: row.event_id }), row.run_id);
  }
  return events.map((e) => ({
    eventId: e.eventId,
    workflowId: e.workflowId,
    runId: fresh.has(e) ? null : (runs.get(keyOf(e)) ?? null),
    duplicate: !fresh.has(e),
  }));
}

interface PendingAccept {
  events: readonly InboxEvent[];
  /** Each event's payload as JSON, made once: its length also bounds a statement's size. */
  json: string[];
  bytes: number;
  resolve(answers: InboxAnswer[]): void;
  reject(err: unknown): void;
}

/**
 * Group commit for the inbox: requests that arrive while `maxInFlight` statements are running are
 * committed together in the next one (up to `maxRows` events and `maxBytes` of payloads), so a burst costs one WAL flush per
 * statement, not per webhook, and a lone request still goes at once (at the end of the event loop's
 * turn that received it, so the requests read in one turn share a statement). Each request is answered only
 * once the statement holding its rows has committed. A failed statement of several requests is
 * retried request by request, so one request's bad row fails only that request.
 */
export class InboxWriter {
  private pending: PendingAccept[] = [];
  private inFlight = 0;
  private flushScheduled = false;

  constructor(
    private readonly pool: Queryable,
    private readonly taskQueue: string,
    private readonly maxInFlight = 4,
    private readonly maxRows = 500,
    private readonly maxBytes = 4 * 2 ** 20,
  ) {}

  accept(events: readonly InboxEvent[]): Promise<InboxAnswer[]> {
    const json = events.map((e) => JSON.stringify(e.payload));
    const bytes = json.reduce((sum, j) => sum + j.length, 0);
    return new Promise((resolve, reject) => {
      this.pending.push({ events, json, bytes, resolve, reject });
      // Once per turn: every request parsed in it is pending by then (one socket write to PostgreSQL, not one each).
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => {
          this.flushScheduled = false;
          this.flush();
        });
      }
    });
  }

  private flush(): void {
    while (this.inFlight < this.maxInFlight && this.pending.length > 0) {
      const batch: PendingAccept[] = [this.pending.shift()!];
      let rows = batch[0]!.events.length;
      let bytes = batch[0]!.bytes;
      while (this.pending.length > 0 && rows + this.pending[0]!.events.length <= this.maxRows && bytes + this.pending[0]!.bytes <= this.maxBytes) {
        const next = this.pending.shift()!;
        rows += next.events.length;
        bytes += next.bytes;
        batch.push(next);
      }
      this.inFlight += 1;
      void this.write(batch).finally(() => {
        this.inFlight -= 1;
        this.flush();
      });
    }
  }

  private async write(batch: PendingAccept[]): Promise<void> {
    try {
      const answers = await acceptIntoInbox(
        this.pool,
        batch.flatMap((r) => r.events),
        this.taskQueue,
        batch.flatMap((r) => r.json),
      );
      let at = 0;
      for (const request of batch) {
        request.resolve(answers.slice(at, at + request.events.length));
        at += request.events.length;
      }
    } catch (err) {
      if (batch.length === 1) return batch[0]!.reject(err);
      for (const request of batch) {
        await acceptIntoInbox(this.pool, request.events, this.taskQueue, request.json).then(
          (answers) => request.resolve(answers),
          (reason: unknown) => request.reject(reason),
        );
      }
    }
  }
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
