/**
 * The Temporal-native path, for a service that has its own Temporal client: the workflow types,
 * id builders, queries/updates/signals and search attributes the API itself uses, re-exported from
 * workflows/*-types.ts (nothing is redefined here), plus the start options the API gives a
 * providerCall, so a workflow started here and one started by `POST /calls` with the same
 * idempotency key are the same workflow.
 *
 *   const handle = await client.workflow.start<ProviderCallWorkflow>(workflowTypes.providerCall,
 *     providerCallStartOptions({ tenant, provider: 'stripe', operation: 'createPaymentIntent', params, priority: 'normal' },
 *       { idempotencyKey: 'order-42' }));
 *
 * Switchyard's payloads are encrypted (PAYLOAD_ENCRYPTION_KEYS): a client that starts, signals,
 * queries or reads results needs the same keyring, e.g.
 *   new Client({ connection, dataConverter: payloadDataConverterFromKeys(process.env.PAYLOAD_ENCRYPTION_KEYS) })
 */
import type { WorkflowStartOptions } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { parseKeyring } from '../lib/security/keyring';
import { payloadDataConverter } from '../lib/security/payload-codec';
import { providerKey, tenantKey } from '../contracts/search-attributes';
import { providerCallWorkflowId, type ProviderCallInput } from '../contracts/call';
import type { batch } from '../workflows/batches';
import type { bookingSaga } from '../workflows/booking';
import type { providerCall } from '../workflows/provider-calls';
import type { processWebhook } from '../workflows/webhooks';

export { AesGcmPayloadCodec, PayloadDecryptionError } from '../lib/security/payload-codec';

/**
 * The data converter options for a Temporal client talking to Switchyard's workflows, from the
 * same `id:base64-key[,…]` keyring the worker has; undefined or empty: no codec (plaintext).
 * Throws on a malformed keyring (the message never holds key material).
 */
export function payloadDataConverterFromKeys(keys: string | undefined): { payloadCodecs: PayloadCodec[] } | undefined {
  if (!keys?.trim()) return undefined;
  const parsed = parseKeyring(keys);
  if ('problems' in parsed) throw new Error(`PAYLOAD_ENCRYPTION_KEYS: ${parsed.problems.join('; ')}`);
  return payloadDataConverter(parsed.keyring);
}

export {
  bookingStatusQuery,
  bookingWorkflowId,
  callPriorities,
  providerCallStatusQuery,
  providerCallWorkflowId,
  type BookingRequest,
  type BookingStatus,
  type CallPriority,
  type ProviderCallInput,
  type ProviderCallResult,
  type ProviderCallStatus,
} from '../contracts/call';
export {
  addItemUpdate,
  awaitItemUpdate,
  batchItemId,
  batchKeyOfItem,
  batchPriorities,
  batchStatusQuery,
  batchWorkflowId,
  itemStatusQuery,
  type AddItemResult,
  type BatchItem,
  type BatchKey,
  type BatchPriority,
  type ItemResult,
} from '../contracts/batch';
export { webhookStatusQuery, webhookWorkflowId, type WebhookEvent, type WebhookStatus } from '../contracts/webhook';
export { deliveryStatusQuery, deliveryWorkflowId, type DeliveryStatus } from '../contracts/delivery';
export { ackAlertSignal, alertStatusQuery, alertWorkflowId, raiseAlertSignal, resolveAlertSignal, type AlertView } from '../contracts/monitoring';
export { customSearchAttributes, eventTypeKey, providerKey, tenantKey, webhookStatusKey } from '../contracts/search-attributes';

/** The workflow functions' types, for `client.workflow.start<ProviderCallWorkflow>(…)` without importing workflow code. */
export type ProviderCallWorkflow = typeof providerCall;
export type BookingSagaWorkflow = typeof bookingSaga;
export type BatchWorkflow = typeof batch;
export type ProcessWebhookWorkflow = typeof processWebhook;

/** Workflow type names as the worker registers them (its exported function names). */
export const workflowTypes = {
  providerCall: 'providerCall',
  bookingSaga: 'bookingSaga',
  batch: 'batch',
  processWebhook: 'processWebhook',
} as const satisfies Record<string, string>;

/** The main task queue every workflow runs on: TEMPORAL_TASK_QUEUE, default `switchyard`. */
export function mainTaskQueue(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env.TEMPORAL_TASK_QUEUE || 'switchyard';
}

/** Where a provider's activities run (rate-limited per queue): `{PROVIDER_TASK_QUEUE_PREFIX}{provider}`. */
export function providerTaskQueue(provider: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  return `${env.PROVIDER_TASK_QUEUE_PREFIX || 'provider-'}${provider}`;
}

/**
 * The options `POST /calls/:provider/:operation` starts a providerCall with: id
 * `call:{tenant}:{provider}:{idempotencyKey}`, the open run returned to a second start, a closed
 * one never re-run, and the `provider`/`tenant` search attributes.
 */
export function providerCallStartOptions(
  call: ProviderCallInput,
  options: { idempotencyKey: string; taskQueue?: string },
): WorkflowStartOptions<ProviderCallWorkflow> {
  return {
    taskQueue: options.taskQueue ?? mainTaskQueue(),
    workflowId: providerCallWorkflowId(call.tenant, call.provider, options.idempotencyKey),
    args: [call],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    typedSearchAttributes: [
      { key: providerKey, value: call.provider },
      { key: tenantKey, value: call.tenant },
    ],
  };
}
