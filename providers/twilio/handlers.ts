/**
 * Twilio inbound SMS handler: the opt-out keywords (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END,
 * QUIT) put the sender's number on the tenant's SMS suppression list, the opt-in ones (START,
 * YES, UNSTOP) take it off, as Twilio itself does for its account (and answers 21610 to a send
 * to an opted-out number). Matched on the trimmed body in any case; any other text changes
 * nothing. Idempotent: a redelivered message applies once (lib/data/suppressions.ts).
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { Pool } from 'pg';
import { withAttempt } from '../../activities/attempts';
import { liftSuppression, suppressAddress, type SuppressionChange } from '../../lib/data/suppressions';
import { webhookErrorTypes } from '../../contracts/errors';
import type { HandlerResult, WebhookEvent } from '../../contracts/webhook';

export const optOutKeywords: ReadonlySet<string> = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT']);
export const optInKeywords: ReadonlySet<string> = new Set(['START', 'YES', 'UNSTOP']);

/** What an inbound SMS body asks for: `opt-out`, `opt-in`, or null for any other text. */
export function smsKeyword(body: string): 'opt-out' | 'opt-in' | null {
  const keyword = body.trim().toUpperCase();
  if (optOutKeywords.has(keyword)) return 'opt-out';
  if (optInKeywords.has(keyword)) return 'opt-in';
  return null;
}

export function createTwilioHandlers(pool: Pool) {
  return {
    /** message.received (an inbound SMS) → an opt-out or opt-in of its sender for the tenant. */
    async recordTwilioOptOut(event: WebhookEvent): Promise<HandlerResult> {
      return withAttempt(async () => {
        const { From: from, Body: body } = event.payload;
        if (typeof body !== 'string') return { applied: false }; // an MMS without text, or a repeated parameter
        const keyword = smsKeyword(body);
        if (keyword === null) return { applied: false };
        if (typeof from !== 'string' || from === '') {
          throw ApplicationFailure.nonRetryable(`twilio ${event.eventType} ${event.eventId}: an opt-out keyword without a From number`, webhookErrorTypes.invalidEvent);
        }
        // Twilio's form carries no event time: the time Switchyard received it orders the changes.
        const change: SuppressionChange = {
          tenant: event.tenant,
          channel: 'sms',
          address: from,
          reason: keyword === 'opt-out' ? 'opt_out' : 'opt_in',
          source: 'twilio',
          sourceEventId: event.eventId,
          detail: `inbound SMS "${body.trim().toUpperCase()}"`,
          at: new Date(event.receivedAt),
        };
        return { applied: keyword === 'opt-out' ? await suppressAddress(pool, change) : await liftSuppression(pool, change, ['opt_out']) };
      });
    },
  };
}
