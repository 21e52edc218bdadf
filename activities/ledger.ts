/**
 * The webhook ledger activities: record an event once, and mark its outcome. The ledger itself
 * (one row per tenant, provider and event id; the long-horizon duplicate guard) is
 * lib/data/webhook-events.ts.
 */
import { Context } from '@temporalio/activity';
import type { Pool } from 'pg';
import { insertWebhookEvent, updateWebhookEvent, webhookEventState } from '../lib/data/webhook-events';
import { matchingSubscriberIds } from '../lib/data/subscribers';
import { withAttempt } from './attempts';
import type { AttemptInfo, LedgerRecord, LedgerUpdate, WebhookEvent } from '../contracts/webhook';

export function createLedgerActivities(pool: Pool) {
  return {
    async recordWebhookEvent(event: WebhookEvent): Promise<LedgerRecord> {
      return withAttempt(async () => {
        const execution = Context.current().info.workflowExecution;
        // ON CONFLICT DO NOTHING + a read of the existing row: inserted exactly once however many
        // times the activity is retried or the event redelivered.
        const inserted = await insertWebhookEvent(pool, event, { workflowId: execution?.workflowId ?? 'unknown', runId: execution?.runId ?? null });
        if (inserted) return { firstSeen: true, status: 'received' as const };
        const row = await webhookEventState(pool, event);
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
      return withAttempt(async () => ({ updated: await updateWebhookEvent(pool, update) }));
    },

    /**
     * An inboxed run's last step, one local activity: the final ledger status and, once completed,
     * the subscribers the event fans out to (what markWebhookEvent and matchSubscribers do apart).
     * Both are idempotent, so a retried attempt or a replayed task answers the same.
     */
    async finishWebhookEvent(update: LedgerUpdate & { eventType: string }): Promise<{ updated: boolean; subscriberIds: string[] } & AttemptInfo> {
      return withAttempt(async () => {
        const [updated, subscriberIds] = await Promise.all([
          updateWebhookEvent(pool, update),
          update.status === 'completed' ? matchingSubscriberIds(pool, update) : Promise.resolve([]),
        ]);
        return { updated, subscriberIds };
      });
    },
  };
}
