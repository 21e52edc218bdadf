/**
 * The webhook ledger in PostgreSQL: one row per (tenant, provider, event id), inserted once.
 * It is the long-horizon duplicate guard (Temporal's id reuse policy only lasts as long as the
 * namespace retention) and what people query in SQL.
 */
import { Context } from '@temporalio/activity';
import type { Pool } from 'pg';
import { withAttempt } from './attempts';
import type { AttemptInfo, LedgerRecord, LedgerUpdate, WebhookEvent, WebhookState } from '../contracts/webhook';

export function createLedgerActivities(pool: Pool) {
  return {
    async recordWebhookEvent(event: WebhookEvent): Promise<LedgerRecord> {
      return withAttempt(async () => {
        const execution = Context.current().info.workflowExecution;
        // ON CONFLICT DO NOTHING + a read of the existing row: inserted exactly once however many
        // times the activity is retried or the event redelivered.
        const inserted = await pool.query<{ status: WebhookState }>(
          `INSERT INTO webhook_events
             (tenant, provider, event_id, event_type, workflow_id, run_id, status, payload, received_at)
           VALUES ($1, $2, $3, $4, $5, $6, 'received', $7, $8)
           ON CONFLICT (tenant, provider, event_id) DO NOTHING
           RETURNING status`,
          [
            event.tenant,
            event.provider,
            event.eventId,
            event.eventType,
            execution?.workflowId ?? 'unknown',
            execution?.runId ?? null,
            event.payload,
            event.receivedAt,
          ],
        );
        if (inserted.rowCount === 1) return { firstSeen: true, status: 'received' as const };
        const existing = await pool.query<{ status: WebhookState; run_id: string | null }>(
          'SELECT status, run_id FROM webhook_events WHERE tenant = $1 AND provider = $2 AND event_id = $3',
          [event.tenant, event.provider, event.eventId],
        );
        const row = existing.rows[0];
        // A row written by this very run is not a duplicate: an earlier attempt of this workflow
        // task ran every local activity (possibly up to the final mark) but the task never
        // completed (worker killed, server restarted, task timed out under load), so the workflow
        // runs them again. Seen as a duplicate it would skip its handler and report
        // outcome "duplicate" for the event it handled itself (found by the fault suite).
        const ownEarlierAttempt = row?.run_id != null && row.run_id === execution?.runId;
        return { firstSeen: ownEarlierAttempt, status: row?.status ?? 'received' };
      });
    },

    async markWebhookEvent(update: LedgerUpdate): Promise<{ updated: boolean } & AttemptInfo> {
      return withAttempt(async () => {
        const result = await pool.query(
          `UPDATE webhook_events
              SET status = $4, handler = $5, outcome = $6, last_error = $7, completed_at = now()
            WHERE tenant = $1 AND provider = $2 AND event_id = $3`,
          [update.tenant, update.provider, update.eventId, update.status, update.handler, update.outcome, update.lastError],
        );
        return { updated: result.rowCount === 1 };
      });
    },
  };
}
