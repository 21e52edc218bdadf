/**
 * Per-activity policies, declared once (ARCHITECTURE.md "Per-activity policies"). Workflows build
 * their activity proxies from this table and never from inline numbers. Pure data: importable by
 * workflow code.
 *
 * Webhook-path database steps are local activities (they are short, and a local activity costs no
 * extra round trip through the server). Steps that must never give up on an accepted event (ledger
 * writes) retry without an attempt limit; a PostgreSQL outage only delays them.
 */
import type { LocalActivityOptions, RetryPolicy } from '@temporalio/workflow';

export type ActivityPolicy = LocalActivityOptions & { kind: 'local' };

/** Error type names thrown by activities that retrying cannot fix. */
export const nonRetryableErrors = {
  invalidEvent: 'InvalidWebhookEvent',
} as const;

const databaseRetry: RetryPolicy = {
  initialInterval: '200 ms',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  nonRetryableErrorTypes: [nonRetryableErrors.invalidEvent],
};

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
  /** Handler side effects: retried for a few minutes, then the event is marked failed for replay. */
  recordStripePayment: {
    kind: 'local',
    startToCloseTimeout: '10 seconds',
    retry: { ...databaseRetry, maximumAttempts: 10 },
  },
} satisfies Record<string, ActivityPolicy>;

export type PolicedActivity = keyof typeof activityPolicies;

/** The options to hand to `proxyLocalActivities` for one activity. */
export function localActivityOptions(name: PolicedActivity): LocalActivityOptions {
  const { kind: _kind, ...options } = activityPolicies[name];
  return options;
}
