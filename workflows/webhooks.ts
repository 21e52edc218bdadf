/**
 * processWebhook: the durable life of one accepted provider webhook. Records it in the ledger
 * (once), runs the handler its route names, finalises the ledger row and answers a `status` query
 * throughout. Deterministic: all I/O is in activities, imported here as types only.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  log,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { localActivityOptions } from './policies';
import { webhookStatusKey } from './search-attributes';
import { routeWebhook } from './webhook-routes';
import {
  webhookStatusQuery,
  type AttemptInfo,
  type StepStatus,
  type WebhookEvent,
  type WebhookStatus,
} from './webhook-types';

type Activities = ReturnType<typeof createActivities>;

const { recordWebhookEvent } = proxyLocalActivities<Activities>(localActivityOptions('recordWebhookEvent'));
const { markWebhookEvent } = proxyLocalActivities<Activities>(localActivityOptions('markWebhookEvent'));
const handlers = {
  recordStripePayment: proxyLocalActivities<Activities>(localActivityOptions('recordStripePayment')).recordStripePayment,
};

function pendingStep(): StepStatus {
  return { state: 'pending', attempts: 0, lastError: null };
}

/** Runs one step, keeping its state, attempt count and last error in the queryable status. */
async function runStep<T extends AttemptInfo>(step: StepStatus, run: () => Promise<T>): Promise<T> {
  step.state = 'running';
  try {
    const result = await run();
    step.state = 'done';
    step.attempts = result.attempt;
    return result;
  } catch (err) {
    step.state = 'failed';
    step.attempts = attemptOf(err) ?? step.attempts;
    step.lastError = describeFailure(err);
    throw err;
  }
}

/** Activities attach their attempt number to the failure they throw (see activities/attempts.ts). */
function attemptOf(err: unknown): number | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    const detail = cause.details?.[0] as Partial<AttemptInfo> | undefined;
    if (typeof detail?.attempt === 'number') return detail.attempt;
  }
  return undefined;
}

function describeFailure(err: unknown): string {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
}

export async function processWebhook(event: WebhookEvent): Promise<WebhookStatus> {
  const handler = routeWebhook(event.provider, event.eventType);
  const status: WebhookStatus = {
    status: 'received',
    tenant: event.tenant,
    provider: event.provider,
    eventId: event.eventId,
    eventType: event.eventType,
    handler,
    outcome: null,
    steps: { ledger: pendingStep(), handler: pendingStep(), finalize: pendingStep() },
    lastError: null,
  };
  setHandler(webhookStatusQuery, () => status);

  const finish = async (final: 'completed' | 'failed'): Promise<void> => {
    await runStep(status.steps.finalize, () =>
      markWebhookEvent({
        tenant: event.tenant,
        provider: event.provider,
        eventId: event.eventId,
        status: final,
        handler,
        outcome: status.outcome,
        lastError: status.lastError,
      }),
    );
    status.status = final;
    upsertSearchAttributes([{ key: webhookStatusKey, value: final }]);
  };

  const ledger = await runStep(status.steps.ledger, () => recordWebhookEvent(event));
  if (!ledger.firstSeen && ledger.status === 'completed') {
    // Long-horizon guard: the id was reusable (past retention) but the ledger remembers the event.
    status.outcome = 'duplicate';
    status.steps.handler.state = 'skipped';
    status.steps.finalize.state = 'skipped';
    status.status = 'completed';
    upsertSearchAttributes([{ key: webhookStatusKey, value: 'completed' }]);
    log.info('webhook already completed in the ledger; nothing to do', { eventId: event.eventId });
    return status;
  }

  status.status = 'processing';
  if (handler === null) {
    status.outcome = 'unhandled';
    status.steps.handler.state = 'skipped';
  } else {
    try {
      await runStep(status.steps.handler, () => handlers[handler](event));
      status.outcome = 'handled';
    } catch {
      status.lastError = status.steps.handler.lastError;
      await finish('failed');
      log.warn('webhook handler failed', { handler, eventId: event.eventId, error: status.lastError });
      throw ApplicationFailure.nonRetryable(
        `handler ${handler} failed for ${workflowInfo().workflowId}: ${status.lastError}`,
        'WebhookHandlerFailed',
      );
    }
  }
  await finish('completed');
  return status;
}
