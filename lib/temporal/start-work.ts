/**
 * Each workflow the API starts from more than one route, declared once: its task queue, search
 * attributes and reuse rule, on top of WorkflowStarter's idempotent start.
 */
import type { Config } from '../config/config';
import type { BookingRequest, ProviderCallInput } from '../../contracts/call';
import { startAttributes } from '../../contracts/search-attributes';
import { webhookWorkflowId, type WebhookEvent } from '../../contracts/webhook';
import type { IdempotentStart, StartOutcome, WorkflowStarter } from './workflow-starter';

export type StartConfig = Pick<Config, 'TEMPORAL_TASK_QUEUE' | 'TEMPORAL_START_TIMEOUT_MS'>;

/** processWebhook for one provider event; `rerun: 'failedOnly'` is an operator's retry. */
export function startWebhook(
  workflows: WorkflowStarter,
  config: StartConfig,
  event: WebhookEvent,
  rerun?: IdempotentStart['rerun'],
): Promise<StartOutcome> {
  return workflows.startIdempotent('processWebhook', {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowId: webhookWorkflowId(event.tenant, event.provider, event.eventId),
    args: [event],
    typedSearchAttributes: startAttributes('processWebhook', event),
    timeoutMs: config.TEMPORAL_START_TIMEOUT_MS,
    rerun,
  });
}

export function startProviderCall(
  workflows: WorkflowStarter,
  config: StartConfig,
  workflowId: string,
  call: ProviderCallInput,
): Promise<StartOutcome> {
  return workflows.startIdempotent('providerCall', {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowId,
    args: [call],
    typedSearchAttributes: startAttributes('providerCall', call),
    timeoutMs: config.TEMPORAL_START_TIMEOUT_MS,
  });
}

export function startBooking(
  workflows: WorkflowStarter,
  config: StartConfig,
  workflowId: string,
  booking: BookingRequest,
): Promise<StartOutcome> {
  return workflows.startIdempotent('bookingSaga', {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowId,
    args: [booking],
    typedSearchAttributes: startAttributes('bookingSaga', { tenant: booking.tenant }),
    timeoutMs: config.TEMPORAL_START_TIMEOUT_MS,
  });
}
