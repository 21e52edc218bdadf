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

/**
 * The handler of an event, or null. The event type is the sender's text: own entries only, so a
 * type named "constructor" or "toString" is unrouted (before, it found Object.prototype's member
 * and the workflow task failed on every attempt). Same answer as before for every routed type.
 */
export function routeWebhook(provider: string, eventType: string): WebhookHandlerName | null {
  const byType = Object.hasOwn(webhookRoutes, provider) ? webhookRoutes[provider] : undefined;
  return byType !== undefined && Object.hasOwn(byType, eventType) ? (byType[eventType] ?? null) : null;
}
