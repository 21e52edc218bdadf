/**
 * The policy table is the only source of activity options: every activity has one, and each
 * compiles to a valid Temporal retry policy (a bad value would otherwise only fail at run time,
 * inside a workflow task).
 */
import { compileRetryPolicy } from '@temporalio/common';
import { createActivities } from '../../activities';
import {
  activityPolicies,
  localActivityOptions,
  remoteActivityOptions,
  type ActivityPolicy,
  type PolicedActivity,
} from '../../workflows/policies';
import { webhookRoutes } from '../../workflows/webhook-routes';

const activityNames = Object.keys(
  createActivities({ pool: {} as never, registry: {}, env: {}, providerTaskQueuePrefix: 'provider-' }),
).sort();

test('every activity has a declared policy, and every policy names an activity', () => {
  expect(Object.keys(activityPolicies).sort()).toEqual(activityNames);
});

test.each(Object.keys(activityPolicies) as PolicedActivity[])('%s compiles to a valid retry policy', (name) => {
  const policy: ActivityPolicy = activityPolicies[name];
  expect(policy.startToCloseTimeout ?? policy.scheduleToCloseTimeout).toBeDefined();
  expect(() => compileRetryPolicy(policy.retry ?? {})).not.toThrow();
});

test('local and remote options drop the table-only field and keep the policy', () => {
  expect(localActivityOptions('recordWebhookEvent')).not.toHaveProperty('kind');
  expect(remoteActivityOptions('callProvider', 'provider-stripe')).toMatchObject({
    taskQueue: 'provider-stripe',
    retry: activityPolicies.callProvider.retry,
  });
});

test('every routed handler is a registered activity', () => {
  const handlers = Object.values(webhookRoutes).flatMap((byType) => Object.values(byType));
  for (const handler of handlers) expect(activityNames).toContain(handler);
});
