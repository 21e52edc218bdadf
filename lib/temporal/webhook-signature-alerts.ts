/**
 * Signature failures reach people: when one tenant's webhook source fails verification
 * WEBHOOK_SIGNATURE_ALERT_THRESHOLD times within the window (a secret rotated on one side only,
 * or someone probing the endpoint), the API raises `alert:webhook-signature-failures:{tenant}:{source}`
 * through the alert workflow (lib/temporal/alert-runs.ts), so it is notified and escalated like
 * every alert, once while it lasts; the next verified webhook of the source, once the window holds
 * fewer failures than the threshold, resolves it. Counted in this process (each API replica counts
 * its own requests; the Prometheus rule WebhookSignatureFailures sees them all).
 */
import type { WorkflowClient } from '@temporalio/client';
import type { Pool } from 'pg';
import type { AlertInput } from '../../contracts/monitoring';
import { raiseAlertRun, resolveAlertRun } from './alert-runs';

export const signatureAlertRule = 'webhook-signature-failures';

/** Tenants are the caller's choice on /tenants/:tenant/webhooks: the watched keys are capped. */
const MAX_WATCHED = 10_000;

export interface SignatureAlertDeps {
  pool: Pool;
  workflows: WorkflowClient;
  taskQueue: string;
  /** Failures within the window that raise the alert; 0: never. */
  threshold: number;
  windowMs: number;
  warn: (message: string, fields: Record<string, unknown>) => void;
  now?: () => number;
}

export interface WatchedSource {
  tenant: string;
  source: string;
  provider: string;
}

export function signatureAlertInput(watched: WatchedSource, failures: number, threshold: number, windowSeconds: number): AlertInput {
  return {
    rule: signatureAlertRule,
    severity: 'high',
    fingerprint: `${watched.tenant}:${watched.source}`,
    provider: watched.provider,
    summary:
      `${watched.source} webhooks of tenant ${watched.tenant}: ${failures} signature failures within ${windowSeconds} s (threshold ${threshold}); ` +
      'a signing secret rotated on one side only, or someone probing the endpoint',
    details: { tenant: watched.tenant, source: watched.source, failures, threshold, windowSeconds },
  };
}

export interface SignatureFailureWatch {
  /** A request of the source failed verification; raises the alert when the window is over the threshold. */
  failed(watched: WatchedSource): void;
  /** A request of the source verified; resolves a raised alert once the window is back under the threshold. */
  verified(watched: WatchedSource): void;
  /** Settles once the raises and resolves under way are done (tests, shutdown). */
  idle(): Promise<void>;
}

export function watchSignatureFailures(deps: SignatureAlertDeps): SignatureFailureWatch {
  const now = deps.now ?? Date.now;
  /** Failure times per `${tenant}\n${source}`, oldest first, at most `threshold` kept. */
  const failures = new Map<string, number[]>();
  /** Keys whose alert this process raised, with when. */
  const raised = new Map<string, number>();
  const pending = new Set<Promise<unknown>>();
  const keyOf = (w: WatchedSource): string => `${w.tenant}\n${w.source}`;
  const windowSeconds = Math.round(deps.windowMs / 1000);

  function recent(key: string, at: number): number[] {
    const times = (failures.get(key) ?? []).filter((t) => at - t < deps.windowMs);
    if (times.length === 0) failures.delete(key);
    else failures.set(key, times);
    return times;
  }

  function track(work: Promise<unknown>, what: string, watched: WatchedSource): void {
    const p = work
      .catch((err: unknown) => deps.warn(`signature failure alert not ${what}; the next request of the source tries again`, {
        tenant: watched.tenant, source: watched.source, error: err instanceof Error ? err.message : String(err),
      }))
      .finally(() => pending.delete(p));
    pending.add(p);
  }

  return {
    failed(watched) {
      if (deps.threshold === 0) return;
      const key = keyOf(watched);
      const at = now();
      const times = recent(key, at);
      times.push(at);
      if (times.length > deps.threshold) times.shift();
      if (!failures.has(key) && failures.size >= MAX_WATCHED) failures.delete(failures.keys().next().value!);
      failures.set(key, times);
      if (times.length < deps.threshold) return;
      // Raised by this process within the window: the open alert already says so.
      const last = raised.get(key);
      if (last !== undefined && at - last < deps.windowMs) return;
      if (!raised.has(key) && raised.size >= MAX_WATCHED) raised.delete(raised.keys().next().value!);
      raised.set(key, at);
      const input = signatureAlertInput(watched, times.length, deps.threshold, windowSeconds);
      track(raiseAlertRun(deps, input).catch((err: unknown) => {
        raised.delete(key);
        throw err;
      }), 'raised', watched);
    },

    verified(watched) {
      const key = keyOf(watched);
      if (!raised.has(key) || recent(key, now()).length >= deps.threshold) return;
      raised.delete(key);
      const { rule, fingerprint } = signatureAlertInput(watched, 0, deps.threshold, windowSeconds);
      track(resolveAlertRun(deps, { rule, fingerprint, reason: `a ${watched.source} webhook verified again and the failures fell under the threshold` }, 'signal'), 'resolved', watched);
    },

    async idle() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}
