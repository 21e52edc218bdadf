/**
 * processWebhook: the durable life of one accepted provider webhook. Records it in the ledger
 * (once), runs the handler its route names, finalises the ledger row and answers a `status` query
 * throughout. Deterministic: all I/O is in activities, imported here as types only.
 */
import {
  ApplicationFailure,
  log,
  patched,
  startChild,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { deliveryWorkflowId } from '../contracts/delivery';
import { deliverEvent } from './deliveries';
import { localActivityOptions } from './policies';
import { startAttributes, webhookStatusKey } from '../contracts/search-attributes';
import { routeWebhook, webhookHandlerNames, type WebhookHandlerName } from './webhook-routes';
import { pendingStep, runStep } from './steps';
import { webhookStatusQuery, type HandlerResult, type LedgerUpdate, type WebhookEvent, type WebhookStatus } from '../contracts/webhook';

type Activities = ReturnType<typeof createActivities>;

const { recordWebhookEvent } = proxyLocalActivities<Activities>(localActivityOptions('recordWebhookEvent'));
const { markWebhookEvent } = proxyLocalActivities<Activities>(localActivityOptions('markWebhookEvent'));
const { matchSubscribers } = proxyLocalActivities<Activities>(localActivityOptions('matchSubscribers'));
const { finishWebhookEvent } = proxyLocalActivities<Activities>(localActivityOptions('finishWebhookEvent'));
/** One local-activity proxy per routed handler, each under the handler policy. */
const handlers = {} as Record<WebhookHandlerName, (event: WebhookEvent) => Promise<HandlerResult>>;
for (const name of webhookHandlerNames) handlers[name] = proxyLocalActivities<Activities>(localActivityOptions(name))[name];

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
  if (event.inboxed) return processInboxed(event, handler, status);
  // Runs the API started itself (before the inbox) and an operator's retry: the ledger step first.
  // Patches are read before the first local activity, so their marker is the run's first command.
  // Read after one, the marker can land in the next task (the SDK completes a task at its heartbeat,
  // between a local activity's result and the code that runs on it); a replay then reads the patch
  // in the earlier task, before it knows the marker, and fails on it. Histories from
  // before this line have the marker after the ledger step: the second read below still finds it.
  const fanOutPatched = patched('subscriber-fan-out');

  const finish = async (final: 'completed' | 'failed'): Promise<void> => {
    await runStep(status.steps.finalize, () =>
      markWebhookEvent(ledgerUpdate(event, handler, status, final)),
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
  await runHandler(event, handler, status, finish);
  // Added after the first histories were recorded: old runs replay without the fan-out. The old
  // branch can go once no run started before the fan-out is open or within the namespace's
  // retention (7 days by default) and the pre-fan-out recordings in test/replay/histories/
  // (process-webhook-handled, -unhandled, -failed) are retired: then deprecatePatch() for one
  // release, then nothing.
  if (fanOutPatched || patched('subscriber-fan-out')) {
    status.deliveries = await fanOut(event);
  }
  await finish('completed');
  return status;
}

/** The run's final ledger status, as both paths record it. */
function ledgerUpdate(event: WebhookEvent, handler: WebhookHandlerName | null, status: WebhookStatus, final: 'completed' | 'failed'): LedgerUpdate {
  return { tenant: event.tenant, provider: event.provider, eventId: event.eventId, status: final, handler, outcome: status.outcome, lastError: status.lastError };
}

/**
 * The routed handler, or `unhandled` when the event type has none. A failed handler records the
 * run as failed (`finish`) and fails it, non-retryable: the handler's own retry policy has run out.
 */
async function runHandler(
  event: WebhookEvent,
  handler: WebhookHandlerName | null,
  status: WebhookStatus,
  finish: (final: 'failed') => Promise<unknown>,
): Promise<void> {
  if (handler === null) {
    status.outcome = 'unhandled';
    status.steps.handler.state = 'skipped';
    return;
  }
  try {
    await runStep(status.steps.handler, () => handlers[handler](event));
    status.outcome = 'handled';
  } catch {
    status.lastError = status.steps.handler.lastError;
    await finish('failed');
    log.warn('webhook handler failed', { handler, eventId: event.eventId, error: status.lastError });
    throw ApplicationFailure.nonRetryable(`handler ${handler} failed for ${workflowInfo().workflowId}: ${status.lastError}`, 'WebhookHandlerFailed');
  }
}

/**
 * A run the inbox drainer started: the API committed the ledger row (and found any duplicate)
 * before it answered, so the run is the handler, one finishing step (final status and the
 * subscribers to fan out to) and one search-attribute update. Chosen by the input, never by a
 * patch: no marker in new histories, and runs from before the inbox take the path above.
 */
async function processInboxed(event: WebhookEvent, handler: WebhookHandlerName | null, status: WebhookStatus): Promise<WebhookStatus> {
  status.steps.ledger.state = 'done';
  status.status = 'processing';
  const finish = async (final: 'completed' | 'failed'): Promise<string[]> => {
    const { subscriberIds } = await runStep(status.steps.finalize, () =>
      finishWebhookEvent({ ...ledgerUpdate(event, handler, status, final), eventType: event.eventType }),
    );
    status.status = final;
    upsertSearchAttributes([{ key: webhookStatusKey, value: final }]);
    return subscriberIds;
  };
  await runHandler(event, handler, status, finish);
  const subscriberIds = await finish('completed');
  status.deliveries = await startDeliveries(event, subscriberIds);
  return status;
}

/** Starts one deliverEvent child per matching subscriber; they outlive this workflow. */
async function fanOut(event: WebhookEvent): Promise<string[]> {
  const { subscriberIds } = await matchSubscribers({ tenant: event.tenant, provider: event.provider, eventType: event.eventType });
  return startDeliveries(event, subscriberIds);
}

async function startDeliveries(event: WebhookEvent, subscriberIds: string[]): Promise<string[]> {
  const started: string[] = [];
  for (const subscriberId of subscriberIds) {
    const deliveryId = deliveryWorkflowId(subscriberId, event.provider, event.eventId);
    try {
      await startChild(deliverEvent, {
        workflowId: deliveryId,
        args: [{ deliveryId, tenant: event.tenant, subscriberId, provider: event.provider, eventId: event.eventId, eventType: event.eventType }],
        parentClosePolicy: 'ABANDON',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        // Start options, not a command of their own: runs recorded without them replay unchanged.
        typedSearchAttributes: startAttributes('deliverEvent', event),
      });
    } catch (err) {
      // Already delivered or delivering (e.g. this workflow's task was retried): nothing to add.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    started.push(deliveryId);
  }
  return started;
}
