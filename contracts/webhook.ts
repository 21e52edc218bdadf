/**
 * Shapes shared by the webhook workflow, its activities and the API: the event as accepted, the
 * status the workflow reports, and the query that reads it.
 */
import { defineQuery } from '@temporalio/workflow';

export interface WebhookEvent {
  tenant: string;
  provider: string;
  eventId: string;
  eventType: string;
  /** ISO-8601 time the API accepted the request. */
  receivedAt: string;
  /** The provider's parsed JSON body. */
  payload: Record<string, unknown>;
  /**
   * Set by the inbox drainer: the API committed the ledger row before answering, so the workflow
   * does not write it again. Absent in runs the API started itself (before the inbox) and in an
   * operator's retry.
   */
  inboxed?: boolean;
}

export type WebhookState = 'received' | 'processing' | 'completed' | 'failed';
export type StepState = 'pending' | 'running' | 'done' | 'skipped' | 'failed';

export interface StepStatus {
  state: StepState;
  /** Attempts the step took (or had taken when it failed); 0 before it ran. */
  attempts: number;
  lastError: string | null;
}

export interface WebhookStatus {
  status: WebhookState;
  tenant: string;
  provider: string;
  eventId: string;
  eventType: string;
  /** The handler activity routed to, or null when the event type has none (recorded and acknowledged). */
  handler: string | null;
  /** `duplicate` when the ledger already held this event as completed (a redelivery past retention). */
  outcome: 'handled' | 'unhandled' | 'duplicate' | null;
  steps: { ledger: StepStatus; handler: StepStatus; finalize: StepStatus };
  lastError: string | null;
  /** deliverEvent workflow ids started for subscribers (absent in runs from before the fan-out). */
  deliveries?: string[];
}

/** What every activity on the webhook path returns besides its own result. */
export interface AttemptInfo {
  attempt: number;
}

export interface LedgerRecord extends AttemptInfo {
  /** false when the ledger already had this (tenant, provider, eventId). */
  firstSeen: boolean;
  /** Ledger status before this call (for a first sighting: `received`). */
  status: WebhookState;
}

export interface HandlerResult extends AttemptInfo {
  /** false when the side effect had already been applied (idempotent handler). */
  applied: boolean;
}

export interface LedgerUpdate {
  tenant: string;
  provider: string;
  eventId: string;
  status: 'completed' | 'failed';
  handler: string | null;
  outcome: WebhookStatus['outcome'];
  lastError: string | null;
}

export const webhookStatusQuery = defineQuery<WebhookStatus>('status');

export function webhookWorkflowId(tenant: string, provider: string, eventId: string): string {
  return `webhook:${tenant}:${provider}:${eventId}`;
}
