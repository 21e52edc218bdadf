/**
 * deliverEvent: one event to one subscriber, exactly once in effect. Started by processWebhook
 * (child, abandoned on parent close) or by a replay. Attempts follow the delivery retry schedule
 * with durable timers (seconds up to days); 410 Gone disables the subscriber; when the schedule is
 * exhausted the delivery is dead-lettered and waits for a replay.
 */
import { patched, proxyActivities, proxyLocalActivities, setHandler, sleep, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { deliveryErrorTypes } from '../contracts/errors';
import { deliveryStatusQuery, type DeliveryInput, type DeliveryOutcome, type DeliveryStatus } from '../contracts/delivery';
import { deliveryStatusKey } from '../contracts/search-attributes';
import { localActivityOptions, remoteActivityOptions } from './policies';
import { failureOf } from './steps';

type Activities = ReturnType<typeof createActivities>;

const { planDelivery } = proxyLocalActivities<Activities>(localActivityOptions('planDelivery'));
const { finishDelivery } = proxyLocalActivities<Activities>(localActivityOptions('finishDelivery'));

export async function deliverEvent(input: DeliveryInput): Promise<DeliveryStatus> {
  // The outcome as the `deliveryStatus` search attribute (a dead letter completes its run, so the
  // execution status cannot tell it). Read before the first local activity, so the marker is the
  // run's first command (workflows/webhooks.ts says why). Runs started before it replay without
  // the upsert (test/replay/histories/deliver-event-dead-lettered-encrypted.json).
  const statusAttribute = patched('delivery-status-attribute');
  const status: DeliveryStatus = {
    status: 'pending',
    deliveryId: input.deliveryId,
    subscriberId: input.subscriberId,
    attempts: 0,
    lastError: null,
    nextAttemptInMs: null,
    nextAttemptAt: null,
  };
  setHandler(deliveryStatusQuery, () => status);
  const { deliverToSubscriber } = proxyActivities<Activities>(
    remoteActivityOptions('deliverToSubscriber', workflowInfo().taskQueue),
  );
  const finish = async (outcome: Omit<DeliveryOutcome, 'deliveryId' | 'attempts'>): Promise<DeliveryStatus> => {
    await finishDelivery({ ...outcome, deliveryId: input.deliveryId, attempts: status.attempts });
    status.status = outcome.status;
    if (statusAttribute) upsertSearchAttributes([{ key: deliveryStatusKey, value: outcome.status }]);
    status.nextAttemptInMs = null;
    status.nextAttemptAt = null;
    return status;
  };

  const plan = await planDelivery(input);
  if (!plan.active) {
    status.lastError = plan.reason;
    return finish({ status: 'skipped', lastStatus: null, lastError: plan.reason, disableSubscriber: false });
  }
  for (let attempt = 0; ; attempt++) {
    try {
      const delivered = await deliverToSubscriber(input);
      status.attempts += 1;
      return await finish({ status: 'delivered', lastStatus: delivered.status, lastError: null, disableSubscriber: false });
    } catch (err) {
      status.attempts += 1;
      const failure = failureOf(err);
      status.lastError = failure.message;
      const gone = failure.type === deliveryErrorTypes.subscriberGone;
      if (gone || failure.type === deliveryErrorTypes.notDeliverable || attempt >= plan.retryScheduleMs.length) {
        return finish({ status: 'dead_lettered', lastStatus: gone ? 410 : null, lastError: failure.message, disableSubscriber: gone });
      }
    }
    status.nextAttemptInMs = plan.retryScheduleMs[attempt]!;
    // Date.now() is the workflow task's time, the same on replay: no history change.
    status.nextAttemptAt = new Date(Date.now() + status.nextAttemptInMs).toISOString();
    await sleep(plan.retryScheduleMs[attempt]!);
    status.nextAttemptInMs = null;
    status.nextAttemptAt = null;
  }
}
