/**
 * Routing table: provider + event type → handler activity. One declared place; an event type
 * that is not here is recorded in the ledger and acknowledged, not failed.
 */
import type { PolicedActivity } from './policies';

export type WebhookHandlerName = Extract<PolicedActivity, 'recordStripePayment'>;

export const webhookRoutes: Readonly<Record<string, Readonly<Record<string, WebhookHandlerName>>>> = {
  stripe: {
    'payment_intent.succeeded': 'recordStripePayment',
  },
};

export function routeWebhook(provider: string, eventType: string): WebhookHandlerName | null {
  return webhookRoutes[provider]?.[eventType] ?? null;
}
