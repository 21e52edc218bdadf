/**
 * Per-activity policies, declared once (ARCHITECTURE.md "Per-activity policies"). Workflows build
 * their activity proxies from this table and never from inline numbers. Pure data: importable by
 * workflow code and by activities (which read the retry policy for jittered backoff).
 *
 * Webhook-path and bookkeeping database steps are local activities (short; a local activity costs
 * no extra round trip through the server). Provider calls are regular activities on the
 * provider's own task queue, where the server enforces its rate limit across all workers. Steps
 * that must never give up (ledger writes, compensations) retry without an attempt limit.
 */
import type { ActivityOptions, LocalActivityOptions, RetryPolicy } from '@temporalio/workflow';
import { callErrorTypes, providerErrorTypes, webhookErrorTypes } from '../contracts/errors';
import { webhookHandlerNames, type WebhookHandlerName } from './webhook-routes';

export type ActivityPolicy = (LocalActivityOptions & { kind: 'local' }) | (ActivityOptions & { kind: 'remote' });

const databaseRetry: RetryPolicy = {
  initialInterval: '200 ms',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  nonRetryableErrorTypes: [
    webhookErrorTypes.invalidEvent,
    callErrorTypes.budgetExceeded,
    callErrorTypes.unknownProvider,
    callErrorTypes.unknownOperation,
  ],
};

/** Failures that say the request itself is wrong (another attempt, or provider, would fail too). */
export const requestErrorTypes: readonly string[] = [
  providerErrorTypes.rejected,
  providerErrorTypes.invalidRequest,
  callErrorTypes.invalidParams,
  callErrorTypes.unknownProvider,
  callErrorTypes.unknownOperation,
  callErrorTypes.recipientSuppressed,
];

const providerCallNonRetryable = [...requestErrorTypes, providerErrorTypes.misconfigured];

/** Handler side effects: retried for a few minutes, then the event is marked failed for replay. */
const webhookHandlerPolicy = {
  kind: 'local' as const,
  startToCloseTimeout: '10 seconds',
  retry: { ...databaseRetry, maximumAttempts: 10 },
} satisfies ActivityPolicy;

/** The handler policy under each routed handler's name. */
function webhookHandlerPolicies(): Record<WebhookHandlerName, typeof webhookHandlerPolicy> {
  return Object.fromEntries(webhookHandlerNames.map((name) => [name, webhookHandlerPolicy])) as Record<WebhookHandlerName, typeof webhookHandlerPolicy>;
}

export const activityPolicies = {
  /** Insert the event into the ledger once; never given up on, an accepted event must be recorded. */
  recordWebhookEvent: {
    kind: 'local',
    startToCloseTimeout: '10 seconds',
    retry: databaseRetry, // no maximumAttempts: unlimited
  },
  /** Final ledger status; same guarantee as the insert. */
  markWebhookEvent: {
    kind: 'local',
    startToCloseTimeout: '10 seconds',
    retry: databaseRetry, // no maximumAttempts: unlimited
  },
  /** An inboxed run's final status plus its subscribers (markWebhookEvent + matchSubscribers in one step); same guarantee. */
  finishWebhookEvent: {
    kind: 'local',
    startToCloseTimeout: '10 seconds',
    retry: databaseRetry, // no maximumAttempts: unlimited
  },
  /** Every routed webhook handler (workflows/webhook-routes.ts), e.g. recordStripePayment. */
  ...webhookHandlerPolicies(),
  /** Candidates, order, task queues and costs for a provider call (reads registry and circuits). */
  planProviderCall: {
    kind: 'local',
    startToCloseTimeout: '10 seconds',
    retry: { ...databaseRetry, maximumAttempts: 20 },
  },
  /** Cost reservation; BudgetExceeded is final. */
  reserveBudget: {
    kind: 'local',
    startToCloseTimeout: '10 seconds',
    retry: { ...databaseRetry, maximumAttempts: 20 },
  },
  settleBudget: { kind: 'local', startToCloseTimeout: '10 seconds', retry: databaseRetry },
  releaseBudget: { kind: 'local', startToCloseTimeout: '10 seconds', retry: databaseRetry },
  /**
   * One provider operation. startToClose a little over the providers' 10 s request timeout; the
   * activity heartbeats while it waits, so an attempt whose worker died (SIGKILL) is retried on
   * another worker, with the same idempotency key, after the heartbeat timeout (5 s) instead.
   * Retry-After and an open circuit set the next delay exactly; otherwise jittered backoff.
   */
  callProvider: {
    kind: 'remote',
    startToCloseTimeout: '15 seconds',
    heartbeatTimeout: '5 seconds',
    scheduleToCloseTimeout: '10 minutes',
    retry: {
      initialInterval: '500 ms',
      backoffCoefficient: 2,
      maximumInterval: '30 seconds',
      maximumAttempts: 5,
      nonRetryableErrorTypes: providerCallNonRetryable,
    },
  },
  /** Subscriber fan-out: which subscribers want this event. */
  matchSubscribers: { kind: 'local', startToCloseTimeout: '10 seconds', retry: databaseRetry },
  /** Delivery row and subscriber state before the first attempt. */
  planDelivery: { kind: 'local', startToCloseTimeout: '10 seconds', retry: databaseRetry },
  finishDelivery: { kind: 'local', startToCloseTimeout: '10 seconds', retry: databaseRetry },
  /**
   * One signed POST to a subscriber. A single attempt per activity: the waits between attempts
   * are `deliveryRetrySchedule`, as durable timers in the workflow (they reach days).
   */
  deliverToSubscriber: {
    kind: 'remote',
    startToCloseTimeout: '30 seconds',
    heartbeatTimeout: '5 seconds', // heartbeats while the subscriber answers: a dead worker's attempt ends early
    retry: { maximumAttempts: 1 },
  },
  /** Batch size, wait, mode and task queue for a batch workflow, from the registry. */
  planBatch: { kind: 'local', startToCloseTimeout: '10 seconds', retry: databaseRetry },
  /** One row per flushed item with its result; never given up on (the results are the caller's). */
  recordBatch: { kind: 'local', startToCloseTimeout: '30 seconds', retry: databaseRetry },
  /** Undo of a completed step (refund, delete): durable and patient, never given up on. */
  compensateProviderCall: {
    kind: 'remote',
    startToCloseTimeout: '15 seconds',
    heartbeatTimeout: '5 seconds', // same activity as callProvider: heartbeats while the provider answers
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '5 minutes',
      nonRetryableErrorTypes: [callErrorTypes.invalidParams, callErrorTypes.unknownProvider, callErrorTypes.unknownOperation],
    },
  },
  // --- Monitoring: healthProbe, slaReport, alert -------------------------------------
  /** One probe, its record, health score and circuit outcome. A failed probe is a result, not an error. */
  probeProvider: {
    kind: 'local',
    startToCloseTimeout: '30 seconds',
    retry: { ...databaseRetry, maximumInterval: '5 seconds', maximumAttempts: 3 },
  },
  /** Figures, comparison and storage for every provider of one SLA window. */
  computeSlaReports: {
    kind: 'local',
    startToCloseTimeout: '1 minute',
    retry: { ...databaseRetry, maximumAttempts: 10 },
  },
  /** Signal-with-start / signal of an alert workflow by its id. */
  raiseAlert: { kind: 'local', startToCloseTimeout: '10 seconds', retry: { ...databaseRetry, maximumAttempts: 20 } },
  planSagaFollowUp: { kind: 'local', startToCloseTimeout: '10 seconds', retry: databaseRetry },
  resolveAlert: { kind: 'local', startToCloseTimeout: '10 seconds', retry: { ...databaseRetry, maximumAttempts: 20 } },
  /** Channels and escalation wait from the worker's configuration. */
  planAlert: { kind: 'local', startToCloseTimeout: '10 seconds', retry: databaseRetry },
  /** The alert's row for the API and the stream; never given up on. */
  saveAlert: { kind: 'local', startToCloseTimeout: '10 seconds', retry: databaseRetry },
  /**
   * One notification (webhook, Slack, Discord, email): a few attempts, then recorded as failed. A
   * Discord 429 sets the next attempt's delay to its retry_after / Retry-After.
   */
  notifyAlert: {
    kind: 'remote',
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5 },
  },
  /** The cost anomaly rule over the cost ledger (costAnomalyCheck, every 5 minutes). */
  evaluateCostAnomalies: { kind: 'local', startToCloseTimeout: '30 seconds', retry: { ...databaseRetry, maximumAttempts: 5 } },
  // --- end monitoring ---------------------------------------------------------------------------
  // --- Retention: pruneData ----------------------------------------------------------
  /** The configured retention ages. */
  planRetention: { kind: 'local', startToCloseTimeout: '10 seconds', retry: databaseRetry },
  /** One bounded batch (UPDATE/DELETE of at most batchSize rows); safe to repeat. */
  pruneBatch: { kind: 'local', startToCloseTimeout: '1 minute', retry: { ...databaseRetry, maximumAttempts: 10 } },
} satisfies Record<string, ActivityPolicy>;

/** pruneData's bounds: rows per batch, and batches per run before it continues as new. */
export const retentionLimits = { batchSize: 1000, batchesPerRun: 500 } as const;

export type PolicedActivity = keyof typeof activityPolicies;
type LocalPolicies = { [K in PolicedActivity]: (typeof activityPolicies)[K] extends { kind: 'local' } ? K : never }[PolicedActivity];
type RemotePolicies = Exclude<PolicedActivity, LocalPolicies>;

/** The options to hand to `proxyLocalActivities` for one local activity. */
export function localActivityOptions(name: LocalPolicies): LocalActivityOptions {
  const { kind: _kind, ...options } = activityPolicies[name];
  return options;
}

/** The options to hand to `proxyActivities` for one activity on a given task queue. */
export function remoteActivityOptions(name: RemotePolicies, taskQueue?: string): ActivityOptions {
  const { kind: _kind, ...options } = activityPolicies[name];
  return { ...options, taskQueue };
}

/**
 * Waits between subscriber delivery attempts: seconds, then minutes, then hours, up to days;
 * after the last one the delivery is dead-lettered (replayable through the API).
 */
export const deliveryRetrySchedule = [
  '5 seconds',
  '30 seconds',
  '2 minutes',
  '10 minutes',
  '30 minutes',
  '1 hour',
  '3 hours',
  '6 hours',
  '12 hours',
  '1 day',
  '1 day',
  '1 day',
] as const;
