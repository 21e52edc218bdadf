/**
 * Shapes shared by the provider-call workflows (providerCall, bookingSaga), their activities and
 * the API.
 */
import { defineQuery } from '@temporalio/workflow';
import type { AttemptInfo, StepStatus } from './webhook';

export const callPriorities = ['critical', 'high', 'normal', 'low'] as const;
export type CallPriority = (typeof callPriorities)[number];

export interface ProviderCallInput {
  tenant: string;
  provider: string;
  operation: string;
  params: Record<string, unknown>;
  /** critical calls are never refused by a budget. */
  priority: CallPriority;
}

export type CircuitStateName = 'closed' | 'open' | 'half_open';

export interface CallCandidate {
  provider: string;
  /** `provider-{name}` (with the worker's prefix): where this provider's activities run, rate-limited. */
  taskQueue: string;
  costUsd: number;
  circuit: CircuitStateName;
  remainingOpenMs: number;
  /** `weighted` strategy only: 0.7 × health + 0.3 × response time when planned (activities/routing.ts). */
  routingScore?: number;
}

export interface CallPlan {
  /** Primary first, then backups in the order the failover strategy chose. */
  candidates: CallCandidate[];
  failoverCapable: boolean;
  strategy: 'none' | 'primary-secondary' | 'weighted';
}

export interface ProviderActivityRequest {
  tenant: string;
  provider: string;
  operation: string;
  params: Record<string, unknown>;
  /** An open circuit fails the call at once (non-retryable) so the workflow can fail over. */
  failFastWhenOpen?: boolean;
}

export interface ProviderActivityResult extends AttemptInfo {
  provider: string;
  operation: string;
  data: Record<string, unknown>;
  cached: boolean;
  /** Graceful degradation: the provider failed, and this is the last cached answer, expired at `staleSince`. */
  stale?: boolean;
  staleSince?: string;
}

export interface CandidateStatus extends StepStatus {
  provider: string;
  /** Why this candidate was passed over, when it was. */
  skippedBecause?: string;
}

export interface ProviderCallStatus {
  status: 'running' | 'completed' | 'failed';
  tenant: string;
  provider: string;
  operation: string;
  /** The provider that answered (differs from `provider` after a failover). */
  servedBy: string | null;
  failedOver: boolean;
  candidates: CandidateStatus[];
  result: Record<string, unknown> | null;
  error: string | null;
  errorType: string | null;
}

export interface ProviderCallResult {
  provider: string;
  operation: string;
  servedBy: string;
  failedOver: boolean;
  data: Record<string, unknown>;
  /** Served from the read-through cache: no provider request, and no charge against the budget. */
  cached?: boolean;
  /**
   * Graceful degradation (the operation's staleIfErrorSeconds): the provider was down or its
   * circuit open, so this is the last cached answer, which stopped being fresh at `staleSince`.
   */
  stale?: boolean;
  staleSince?: string;
}

export const providerCallStatusQuery = defineQuery<ProviderCallStatus>('status');

export function providerCallWorkflowId(tenant: string, provider: string, idempotencyKey: string): string {
  return `call:${tenant}:${provider}:${idempotencyKey}`;
}

export interface BookingRequest {
  tenant: string;
  amount: number;
  currency: string;
  customer?: string;
  calendarId: string;
  summary: string;
  start: string;
  end: string;
  phone: string;
  email: string;
  /**
   * The registry provider the payment step charges through (default `stripe`); its declared
   * failover backups (PayPal for Stripe) take over when it is down.
   */
  paymentProvider?: string;
  /**
   * The payer's saved PayPal wallet (vault id): an order PayPal creates with it needs no approval
   * by the payer, so a failover to PayPal can capture at once. Stripe ignores it.
   */
  paypalVaultId?: string;
}

export type BookingStep = 'charge' | 'calendar' | 'sms' | 'email';

/**
 * The booking saga's definition: its steps in order, and which are critical. A critical step's
 * failure undoes the steps before it (refund, delete the event) and fails the booking. A
 * non-critical step's failure never does: the booking completes, and a follow-up workflow
 * (sagaStepFollowUp) retries the step on SAGA_FOLLOW_UP_SCHEDULE with an alert open until it
 * succeeds. Runs started before this table existed undo everything on any failure.
 */
export const bookingSagaSteps = {
  charge: { critical: true },
  calendar: { critical: true },
  sms: { critical: false },
  email: { critical: false },
} as const satisfies Record<BookingStep, { critical: boolean }>;

/** A failed non-critical saga step, handed to its follow-up workflow. */
export interface SagaFollowUpInput {
  /** The saga's workflow id (the booking). */
  saga: string;
  step: BookingStep;
  call: ProviderCallInput;
  /** Why the step failed in the saga. */
  error: string;
}

export interface SagaFollowUpResult {
  ok: boolean;
  /** Follow-up attempts made (the saga's own attempt not counted). */
  attempts: number;
  servedBy: string | null;
  error: string | null;
}

export function sagaFollowUpWorkflowId(saga: string, step: BookingStep): string {
  return `${saga}:follow-up:${step}`;
}

export const sagaFollowUpAlertRule = 'saga-step-failed';

export interface BookingStatus {
  status: 'running' | 'completed' | 'compensating' | 'failed';
  completedSteps: BookingStep[];
  failedStep: BookingStep | null;
  error: string | null;
  /** Compensations run, in the order they ran (reverse of the steps). */
  undone: Array<{ step: BookingStep; action: string; ok: boolean; error?: string }>;
  /** The Stripe payment intent, when Stripe charged (the charge id). */
  paymentIntentId: string | null;
  /** Which provider charged and its charge id (Stripe payment intent, PayPal capture); absent in runs from before failover. */
  chargedBy?: string | null;
  chargeId?: string | null;
  calendarEventId: string | null;
  /** Non-critical steps that failed and are being retried by their follow-up workflows (absent in older runs). */
  followUps?: Array<{ step: BookingStep; workflowId: string; error: string }>;
}

export const bookingStatusQuery = defineQuery<BookingStatus>('status');

export function bookingWorkflowId(tenant: string, idempotencyKey: string): string {
  return `booking:${tenant}:${idempotencyKey}`;
}
