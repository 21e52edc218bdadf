/**
 * Shapes shared by the subscriber fan-out (processWebhook → deliverEvent), its activities and the
 * API.
 */
import { defineQuery } from '@temporalio/workflow';
import type { AttemptInfo } from './webhook';

export interface DeliveryInput {
  deliveryId: string;
  tenant: string;
  subscriberId: string;
  provider: string;
  eventId: string;
  eventType: string;
}

export interface DeliveryPlan {
  /** false when the subscriber is gone or disabled: the delivery is skipped. */
  active: boolean;
  reason: string | null;
  /** Waits between attempts in ms (the policy table's schedule unless the worker overrides it). */
  retryScheduleMs: number[];
}

export interface DeliveryAttempt extends AttemptInfo {
  status: number;
}

export type DeliveryState = 'pending' | 'delivered' | 'dead_lettered' | 'skipped';

export interface DeliveryStatus {
  status: DeliveryState;
  deliveryId: string;
  subscriberId: string;
  attempts: number;
  lastError: string | null;
  /** Set while waiting before the next attempt: the wait's length. */
  nextAttemptInMs: number | null;
  /** Set while waiting before the next attempt: when it is due (ISO 8601, the workflow's clock). */
  nextAttemptAt?: string | null;
}

export interface DeliveryOutcome {
  deliveryId: string;
  status: Exclude<DeliveryState, 'pending'>;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  /** 410 Gone: the subscriber asked not to be called again. */
  disableSubscriber: boolean;
}

export const deliveryStatusQuery = defineQuery<DeliveryStatus>('status');

export function deliveryWorkflowId(subscriberId: string, provider: string, eventId: string): string {
  return `delivery:${subscriberId}:${provider}:${eventId}`;
}
