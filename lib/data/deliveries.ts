/**
 * Deliveries (`deliveries`): one row per delivery of one event to one subscriber (its id is the
 * delivery workflow's id), with its status, attempts and last answer. The delivery activities keep
 * it; the API lists deliveries, shows an event's, and replays one from it.
 */
import type { Pool } from 'pg';
import type { DeliveryInput, DeliveryOutcome } from '../../contracts/delivery';

type Queryable = Pick<Pool, 'query'>;

/** The delivery's row, pending again when it already exists (a replay). */
export async function upsertPendingDelivery(pool: Queryable, input: DeliveryInput): Promise<void> {
  await pool.query(
    `INSERT INTO deliveries (id, tenant, subscriber_id, provider, event_id, event_type, status)
     VALUES ($1, $2, $3, $4, $5, $6, 'pending')
     ON CONFLICT (id) DO UPDATE SET status = 'pending', updated_at = now()`,
    [input.deliveryId, input.tenant, input.subscriberId, input.provider, input.eventId, input.eventType],
  );
}

/** One attempt that failed before anything was sent (no status to record). */
export async function recordDeliveryAttemptError(pool: Queryable, deliveryId: string, message: string): Promise<void> {
  await pool.query('UPDATE deliveries SET attempts = attempts + 1, last_error = $2, updated_at = now() WHERE id = $1', [deliveryId, message]);
}

/** One attempt and what the subscriber answered (status null: no answer). */
export async function recordDeliveryAttempt(pool: Queryable, deliveryId: string, status: number | null, error: string | null): Promise<void> {
  await pool.query(
    `UPDATE deliveries SET attempts = attempts + 1, last_status = $2, last_error = $3, updated_at = now() WHERE id = $1`,
    [deliveryId, status, error],
  );
}

/**
 * The delivery's final status, recorded once: only a pending delivery is finished, and only then
 * is its subscriber disabled when the outcome says so (it answered 410). True when this call
 * finished it (a re-run that finds it finished answers false, so it is counted once).
 */
export async function finishDeliveryRow(pool: Queryable, outcome: DeliveryOutcome): Promise<boolean> {
  const { rows } = await pool.query<{ finished: string }>(
    `WITH finished AS (
       UPDATE deliveries SET status = $2, last_error = COALESCE($3, last_error), updated_at = now(),
              delivered_at = CASE WHEN $2 = 'delivered' THEN now() ELSE delivered_at END
        WHERE id = $1 AND status = 'pending'
        RETURNING subscriber_id),
     disabled AS (
       UPDATE subscribers SET enabled = false, disabled_reason = '410 Gone from the subscriber', updated_at = now()
        WHERE $4 AND id = (SELECT subscriber_id FROM finished))
     SELECT count(*) AS finished FROM finished`,
    [outcome.deliveryId, outcome.status, outcome.lastError, outcome.disableSubscriber],
  );
  return Number(rows[0]?.finished) > 0;
}

/** Deliveries still open, every subscriber together: pending, and dead-lettered ones waiting for a replay (index 013). */
export async function openDeliveryCounts(pool: Queryable): Promise<{ pending: number; dead_lettered: number }> {
  const { rows } = await pool.query<{ status: 'pending' | 'dead_lettered'; n: string }>(
    `SELECT status, count(*) AS n FROM deliveries WHERE status IN ('pending', 'dead_lettered') GROUP BY status`,
  );
  const counts = { pending: 0, dead_lettered: 0 };
  for (const row of rows) counts[row.status] = Number(row.n);
  return counts;
}

/** The delivery's status; undefined when it has no row yet. */
export async function deliveryStatus(pool: Queryable, id: string): Promise<string | undefined> {
  const { rows } = await pool.query<{ status: string }>('SELECT status FROM deliveries WHERE id = $1', [id]);
  return rows[0]?.status;
}

/** A delivery's state as lists count it: a pending delivery that has already failed once is retrying. */
export type DeliveryState = 'pending' | 'retrying' | 'delivered' | 'dead_lettered' | 'skipped';

/**
 * One page of the tenant's deliveries, newest first, in the API's field names, with the count per
 * state (of the subscriber's, when named) and how many match the filter in all. `status`
 * `problem` means pending (retrying included) and dead-lettered.
 */
export async function listDeliveries(
  pool: Queryable,
  tenant: string,
  filters: { subscriber?: string; status?: string; limit: number; offset: number },
): Promise<{ rows: Array<{ id: string; status: string; attempts: number } & Record<string, unknown>>; counts: Record<DeliveryState, number>; total: number }> {
  const { subscriber, status, limit, offset } = filters;
  const statuses = status === 'problem' ? ['pending', 'dead_lettered'] : status ? [status] : null;
  const [{ rows }, counted] = await Promise.all([
    pool.query<{ id: string; status: string; attempts: number }>(
      `SELECT id, subscriber_id AS "subscriberId", provider, event_id AS "eventId", event_type AS "eventType", status, attempts,
              last_status AS "lastStatus", last_error AS "lastError", created_at AS "createdAt", updated_at AS "updatedAt",
              delivered_at AS "deliveredAt"
         FROM deliveries
        WHERE tenant = $1 AND ($2::text IS NULL OR subscriber_id = $2) AND ($3::text[] IS NULL OR status = ANY($3))
        ORDER BY created_at DESC, id LIMIT $4 OFFSET $5`,
      [tenant, subscriber ?? null, statuses, limit, offset],
    ),
    pool.query<{ state: string; n: string }>(
      `SELECT CASE WHEN status = 'pending' AND attempts > 0 THEN 'retrying' ELSE status END AS state, count(*) AS n
         FROM deliveries WHERE tenant = $1 AND ($2::text IS NULL OR subscriber_id = $2) GROUP BY 1`,
      [tenant, subscriber ?? null],
    ),
  ]);
  const counts: Record<DeliveryState, number> = { pending: 0, retrying: 0, delivered: 0, dead_lettered: 0, skipped: 0 };
  for (const { state, n } of counted.rows) if (Object.hasOwn(counts, state)) counts[state as DeliveryState] = Number(n);
  const total = statuses
    ? statuses.reduce((sum, s) => sum + (s === 'pending' ? counts.pending + counts.retrying : counts[s as DeliveryState] ?? 0), 0)
    : Object.values(counts).reduce((a, b) => a + b, 0);
  return { rows, counts, total };
}

/** What a replay of the delivery needs, with whether its subscriber is enabled. */
export async function deliveryToReplay(
  pool: Queryable,
  tenant: string,
  id: string,
): Promise<{ subscriber_id: string; provider: string; event_id: string; event_type: string; enabled: boolean } | undefined> {
  const { rows } = await pool.query<{ subscriber_id: string; provider: string; event_id: string; event_type: string; enabled: boolean }>(
    `SELECT d.subscriber_id, d.provider, d.event_id, d.event_type, s.enabled
       FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE d.tenant = $1 AND d.id = $2`,
    [tenant, id],
  );
  return rows[0];
}

/** One event's deliveries, oldest first, in the API's field names. */
export async function deliveriesOfEvent(
  pool: Queryable,
  event: { tenant: string; provider: string; eventId: string },
): Promise<Array<Record<string, unknown>>> {
  const { rows } = await pool.query<Record<string, unknown>>(
    `SELECT id, subscriber_id AS "subscriberId", status, attempts, last_status AS "lastStatus", last_error AS "lastError"
       FROM deliveries WHERE tenant = $1 AND provider = $2 AND event_id = $3 ORDER BY created_at`,
    [event.tenant, event.provider, event.eventId],
  );
  return rows;
}

/** Retention: deletes at most `batchSize` finished deliveries not updated for `olderThanDays`; returns how many. */
export async function pruneFinishedDeliveries(pool: Queryable, olderThanDays: number, batchSize: number): Promise<number> {
  const result = await pool.query(
    `DELETE FROM deliveries
      WHERE id IN (SELECT id FROM deliveries
                    WHERE status <> 'pending' AND updated_at < now() - make_interval(days => $1)
                    ORDER BY updated_at LIMIT $2
                    FOR UPDATE SKIP LOCKED)`,
    [olderThanDays, batchSize],
  );
  return result.rowCount ?? 0;
}
