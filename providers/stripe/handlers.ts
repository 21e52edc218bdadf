/**
 * Stripe event handlers. Each is idempotent on its own key, so a retried attempt or a redelivered
 * event applies its side effect once.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { Pool } from 'pg';
import { z } from 'zod';
import { withAttempt } from '../../activities/attempts';
import { insertPayment } from '../../lib/data/payments';
import { webhookErrorTypes } from '../../contracts/errors';
import type { HandlerResult, WebhookEvent } from '../../contracts/webhook';
import { formatIssues } from '../../lib/zod-issues';

const paymentIntentEvent = z.object({
  data: z.object({
    object: z.object({
      id: z.string().min(1),
      amount_received: z.number().int().nonnegative().optional(),
      amount: z.number().int().nonnegative(),
      currency: z.string().min(3),
      status: z.string().optional(),
      customer: z.string().nullable().optional(),
    }),
  }),
});

export function createStripeHandlers(pool: Pool) {
  return {
    /** payment_intent.succeeded → one row in `payments` per payment intent. */
    async recordStripePayment(event: WebhookEvent): Promise<HandlerResult> {
      return withAttempt(async () => {
        const parsed = paymentIntentEvent.safeParse(event.payload);
        if (!parsed.success) {
          throw ApplicationFailure.nonRetryable(
            `stripe ${event.eventType} ${event.eventId}: ${formatIssues(parsed.error).join('; ')}`,
            webhookErrorTypes.invalidEvent,
          );
        }
        const intent = parsed.data.data.object;
        const applied = await insertPayment(pool, {
          tenant: event.tenant,
          provider: 'stripe',
          paymentId: intent.id,
          amount: intent.amount_received ?? intent.amount,
          currency: intent.currency.toLowerCase(),
          status: intent.status ?? 'succeeded',
          customer: intent.customer ?? null,
          sourceEventId: event.eventId,
        });
        return { applied };
      });
    },
  };
}
