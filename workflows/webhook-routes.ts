/**
 * Routing table: webhook source's provider + event type → handler activity. The one declared
 * place: workflows/webhooks.ts builds its handler proxies from it, workflows/policies.ts gives
 * every routed handler the handler policy, and the handlers themselves live in their provider's
 * folder (providers/<name>/handlers.ts). An event type that is not here is recorded in the ledger
 * and acknowledged, not failed. Pure data: workflow code imports it.
 */

const routes = {
  stripe: {
    'payment_intent.succeeded': 'recordStripePayment',
  },
  sendgrid: {
    bounce: 'recordSendgridSuppression',
    dropped: 'recordSendgridSuppression',
    spamreport: 'recordSendgridSuppression',
    unsubscribe: 'recordSendgridSuppression',
    group_unsubscribe: 'recordSendgridSuppression',
    group_resubscribe: 'liftSendgridSuppression',
  },
  twilio: {
    // An inbound SMS (Twilio's SmsStatus "received"): STOP, START and their kin.
    'message.received': 'recordTwilioOptOut',
  },
} as const;

type Routes = typeof routes;
/** Every activity name a route names. */
export type WebhookHandlerName = { [Provider in keyof Routes]: Routes[Provider][keyof Routes[Provider]] }[keyof Routes];

export const webhookRoutes: Readonly<Record<string, Readonly<Record<string, WebhookHandlerName>>>> = routes;

/** Each routed handler once, in table order. */
export const webhookHandlerNames: readonly WebhookHandlerName[] = [
  ...new Set(Object.values(webhookRoutes).flatMap((byType) => Object.values(byType))),
];

/**
 * The handler of an event, or null. The event type is the sender's text: own entries only, so a
 * type named "constructor" or "toString" is unrouted (before, it found Object.prototype's member
 * and the workflow task failed on every attempt). Same answer as before for every routed type.
 */
export function routeWebhook(provider: string, eventType: string): WebhookHandlerName | null {
  const byType = Object.hasOwn(webhookRoutes, provider) ? webhookRoutes[provider] : undefined;
  return byType !== undefined && Object.hasOwn(byType, eventType) ? (byType[eventType] ?? null) : null;
}
