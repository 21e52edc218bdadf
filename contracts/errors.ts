/**
 * Every failure type name Switchyard's activities throw, declared once. Pure data: the retry
 * policies (workflow side) and the activities that throw them import the same names.
 */

/** Failure types thrown by provider adapters (providers/core/classify.ts). */
export const providerErrorTypes = {
  /** The provider refused the request (4xx other than 408/409/429); retrying cannot help. */
  rejected: 'ProviderRejected',
  /** The provider asked us to slow down (429, 503 + Retry-After, Vonage status 1); retryable. */
  throttled: 'ProviderThrottled',
  /** Server error, timeout or connection failure; retryable with the policy's backoff. */
  unavailable: 'ProviderUnavailable',
  /** Nothing was sent: unknown operation or params that fail the operation's schema. */
  invalidRequest: 'ProviderRequestInvalid',
  /** Nothing was sent: a credential or default (e.g. sender number) is missing from the environment. */
  misconfigured: 'ProviderMisconfigured',
} as const;

/** Failure types of the provider-call activities around the adapters. */
export const callErrorTypes = {
  unknownProvider: 'UnknownProvider',
  unknownOperation: 'UnknownOperation',
  invalidParams: 'InvalidCallParams',
  circuitOpen: 'CircuitOpen',
  budgetExceeded: 'BudgetExceeded',
  /** Nothing was sent: a recipient is on the tenant's suppression list (bounced, unsubscribed, opted out of SMS). */
  recipientSuppressed: 'RecipientSuppressed',
} as const;

/** Failure types of the webhook path. */
export const webhookErrorTypes = {
  invalidEvent: 'InvalidWebhookEvent',
} as const;

/** Failure types of subscriber deliveries. */
export const deliveryErrorTypes = {
  /** Non-2xx answer or no answer: tried again on the delivery schedule. */
  failed: 'DeliveryFailed',
  /** 410 Gone: the subscriber is disabled, the delivery dead-lettered. */
  subscriberGone: 'SubscriberGone',
  /** The subscriber or the event no longer exists. */
  notDeliverable: 'NotDeliverable',
} as const;
