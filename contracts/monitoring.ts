/**
 * The vocabulary shared by the monitoring workflows (healthProbe, slaReport, alert), their
 * activities and the API: inputs, results, alert signals and query, declared once.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';

export const alertSeverities = ['critical', 'high', 'medium', 'low'] as const;
export type AlertSeverity = (typeof alertSeverities)[number];

/** Notification channels, in escalation order (see planAlert). */
export const alertChannels = ['webhook', 'slack', 'discord', 'email', 'sms'] as const;
export type AlertChannel = (typeof alertChannels)[number];

export type ProviderStatus = 'up' | 'degraded' | 'down';

export interface HealthProbeInput {
  provider: string;
}

export interface ProbeOutcome {
  provider: string;
  ok: boolean;
  status: number | null;
  latencyMs: number;
  error: string | null;
  /** Health score 0..1 after this probe. */
  score: number;
  providerStatus: ProviderStatus;
  previousStatus: ProviderStatus | null;
  circuit: string;
}

export type SlaWindow = 'hourly' | 'daily';

export interface SlaReportInput {
  window: SlaWindow;
  /** End of the window (ISO); default: when the report runs. */
  end?: string;
  /** Only these providers (default: every provider in the registry). */
  providers?: string[];
}

export interface SlaProviderReport {
  provider: string;
  window: SlaWindow;
  periodStart: string;
  periodEnd: string;
  probes: number;
  calls: number;
  availability: number | null;
  p95Ms: number | null;
  errorRate: number | null;
  target: { availability: number; p95Ms: number; errorRate: number };
  violations: string[];
  compliant: boolean;
}

export interface AlertInput {
  rule: string;
  fingerprint: string;
  severity: AlertSeverity;
  summary: string;
  provider?: string;
  details?: Record<string, unknown>;
}

export type AlertState = 'firing' | 'acknowledged' | 'resolved';

export interface AlertNotification {
  channel: AlertChannel;
  level: number;
  event: 'firing' | 'resolved';
  ok: boolean;
  error: string | null;
  at: string;
}

export interface AlertView extends AlertInput {
  id: string;
  runId: string;
  state: AlertState;
  escalationLevel: number;
  /** Level reached when acknowledged; escalation stops there. */
  acknowledgedAtLevel: number | null;
  acknowledgedBy: string | null;
  startedAt: string;
  acknowledgedAt: string | null;
  resolvedAt: string | null;
  resolveReason: string | null;
  notifications: AlertNotification[];
}

/** Channel levels and the wait between them, from the worker's configuration. */
export interface AlertPlan {
  /** levels[0] is notified at once; each next level after its wait without an ack. */
  levels: AlertChannel[][];
  /** The wait before every next level, on plans without `waits` (runs started before the escalation table). */
  escalateAfterMs: number | null;
  /** The wait before each level (index 0: none), from the escalation table (lib/config/alert-policy.ts). */
  waits?: Array<number | null>;
  /** The severity a level raises the alert to (medium → high), or null to keep it. */
  severities?: Array<AlertSeverity | null>;
  /** Where SMS goes, when configured. */
  sms: { provider: string; to: string } | null;
}

export function alertWorkflowId(rule: string, fingerprint: string): string {
  return `alert:${rule}:${fingerprint}`;
}

/** The condition is (still) true; a running alert keeps going, a closed one starts again. */
export const raiseAlertSignal = defineSignal<[{ summary: string; details?: Record<string, unknown> }]>('raise');
/** Someone took it: escalation stops, the alert stays open until resolved. */
export const ackAlertSignal = defineSignal<[{ by: string }]>('ack');
/** The condition cleared. */
export const resolveAlertSignal = defineSignal<[{ reason: string }]>('resolve');
export const alertStatusQuery = defineQuery<AlertView>('status');

export interface CostAnomalyCheckInput {
  /** Evaluate at this time (ISO); default: when the check runs. */
  at?: string;
  /** Only these providers (default: every provider in the registry and every one with recent spend). */
  providers?: string[];
}

/** One provider's spend over the last window against its trailing baseline (lib/data/budgets.ts). */
export interface CostAnomaly {
  provider: string;
  windowStart: string;
  windowEnd: string;
  /** Reserved and settled spend in the window. */
  windowUsd: number;
  /** Average spend per window-length over the baseline before the window; null with less than one window of history. */
  baselineUsdPerWindow: number | null;
  /** windowUsd / baselineUsdPerWindow; null when the baseline is null or zero. */
  ratio: number | null;
  /** The multiple the rule compares the ratio with (COST_ANOMALY_MULTIPLE). */
  multiple: number;
  anomalous: boolean;
}
