/**
 * The live status stream's vocabulary: one PostgreSQL NOTIFY channel that activities (and the
 * ledger/budget triggers of migration 004, the delivery trigger of 007) publish to and the API LISTENs on, so events cross from
 * the worker process to the API process without a broker.
 */
import type { Pool } from 'pg';

export const STREAM_CHANNEL = 'switchyard_events';

/**
 * `batching`: each batch flush (size, waits, provider requests saved; activities/batches.ts);
 * `rate_limit`: throttling (webhook and service-API limits, budget refusals; api/throttle-notices.ts).
 */
export const streamTopics = ['provider', 'alert', 'webhook', 'budget', 'sla', 'delivery', 'batching', 'rate_limit'] as const;
export type StreamTopic = (typeof streamTopics)[number];

export interface StreamEvent {
  topic: StreamTopic;
  /** null: system-wide (providers, alerts, budgets), delivered to every tenant's stream. */
  tenant: string | null;
  data: Record<string, unknown>;
}

/** NOTIFY payloads are limited to 8000 bytes; larger data is cut down to its scalar fields. */
export async function publishEvent(pool: Pick<Pool, 'query'>, event: StreamEvent): Promise<void> {
  let payload = JSON.stringify(event);
  if (Buffer.byteLength(payload) > 7900) {
    const scalars = Object.fromEntries(Object.entries(event.data).filter(([, v]) => v === null || typeof v !== 'object'));
    payload = JSON.stringify({ ...event, data: { ...scalars, truncated: true } }).slice(0, 7900);
  }
  await pool.query('SELECT pg_notify($1, $2)', [STREAM_CHANNEL, payload]);
}
