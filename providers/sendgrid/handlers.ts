/**
 * SendGrid Event Webhook handlers: the events that say an address must not be mailed again
 * (bounce, dropped, spamreport, unsubscribe, group_unsubscribe) put it on the tenant's
 * suppression list; group_resubscribe takes off an unsubscribe (never a bounce or a spam
 * report: those need an operator). Idempotent on the event's own time: a redelivered event
 * changes nothing, an older one delivered late loses to a newer one (lib/data/suppressions.ts).
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { Pool } from 'pg';
import { z } from 'zod';
import { withAttempt } from '../../activities/attempts';
import { liftSuppression, suppressAddress, type SuppressionChange } from '../../lib/data/suppressions';
import { webhookErrorTypes } from '../../contracts/errors';
import type { HandlerResult, WebhookEvent } from '../../contracts/webhook';
import { formatIssues } from '../../lib/zod-issues';

const suppressionEvent = z.object({
  email: z.string().min(1).max(320),
  /** Unix seconds of the event (SendGrid's). */
  timestamp: z.number().int().positive(),
  /** Bounces: `bounce` (hard) or `blocked` (a temporary refusal by the receiving server). */
  type: z.string().optional(),
  reason: z.string().optional(),
  asm_group_id: z.number().int().optional(),
});

/** The unsubscribes a group resubscribe undoes. */
const resubscribable = ['unsubscribe', 'group_unsubscribe'];

function changeOf(event: WebhookEvent): SuppressionChange {
  const parsed = suppressionEvent.safeParse(event.payload);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(`sendgrid ${event.eventType} ${event.eventId}: ${formatIssues(parsed.error).join('; ')}`, webhookErrorTypes.invalidEvent);
  }
  const { email, timestamp, reason, asm_group_id: group } = parsed.data;
  const detail = [reason, group === undefined ? undefined : `group ${group}`].filter((part) => part !== undefined).join('; ');
  return {
    tenant: event.tenant,
    channel: 'email',
    address: email,
    reason: event.eventType,
    source: 'sendgrid',
    sourceEventId: event.eventId,
    detail: detail === '' ? null : detail.slice(0, 500),
    at: new Date(timestamp * 1000),
  };
}

export function createSendgridHandlers(pool: Pool) {
  return {
    /** bounce, dropped, spamreport, unsubscribe, group_unsubscribe → the address is suppressed for the tenant. */
    async recordSendgridSuppression(event: WebhookEvent): Promise<HandlerResult> {
      return withAttempt(async () => {
        const change = changeOf(event);
        // A `blocked` bounce is the receiving server's temporary refusal: SendGrid does not suppress it either.
        if (event.eventType === 'bounce' && event.payload.type === 'blocked') return { applied: false };
        return { applied: await suppressAddress(pool, change) };
      });
    },
    /** group_resubscribe → an unsubscribe of the address is lifted. */
    async liftSendgridSuppression(event: WebhookEvent): Promise<HandlerResult> {
      return withAttempt(async () => ({ applied: await liftSuppression(pool, changeOf(event), resubscribable) }));
    },
  };
}
