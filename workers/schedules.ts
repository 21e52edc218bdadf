/**
 * Temporal Schedules for the monitoring workflows, kept in step with the provider registry: one
 * `healthProbe` Schedule per provider (its probe interval, overlap SKIP: a slow probe is never
 * stacked), plus hourly and daily `slaReport` Schedules, the daily `pruneData` (retention) Schedule
 * and the 5-minute `costAnomalyCheck` Schedule. Each action carries the run's search attributes
 * (`kind`, and `provider` for a probe) so the Web UI can filter the scheduled runs out. Creating is
 * idempotent (an existing Schedule is updated in place, its action included, keeping an operator's
 * pause from the Web UI), and the probe Schedule of a provider no longer in the registry is
 * deleted. Run by the worker at start and by `npm run schedules`.
 */
import {
  type Client,
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type ScheduleOptionsStartWorkflowAction,
  type ScheduleSpec,
} from '@temporalio/client';
import type { ProviderRegistry } from '../lib/config/registry';
import type { Workflow } from '@temporalio/common';
import type { CostAnomalyCheckInput, HealthProbeInput, SlaReportInput } from '../contracts/monitoring';
import type { PruneDataInput } from '../contracts/retention';
import { startAttributes } from '../contracts/search-attributes';

export interface SyncSchedulesOptions {
  client: Client;
  registry: ProviderRegistry;
  /** The task queue the monitoring workflows run on (the main one). */
  taskQueue: string;
  /** Prepended to every Schedule and workflow id (tests keep theirs apart); default none. */
  idPrefix?: string;
  /** New Schedules start paused (an operator unpauses them in the Web UI); existing ones keep their state. */
  initiallyPaused?: boolean;
  log?: (line: string) => void;
}

export interface SyncResult {
  created: string[];
  updated: string[];
  deleted: string[];
}

interface DesiredSchedule {
  scheduleId: string;
  spec: ScheduleSpec;
  action: ScheduleOptionsStartWorkflowAction<Workflow>;
  note: string;
}

export function probeScheduleId(provider: string, idPrefix = ''): string {
  return `${idPrefix}health-probe:${provider}`;
}

export function slaScheduleId(window: 'hourly' | 'daily', idPrefix = ''): string {
  return `${idPrefix}sla-report:${window}`;
}

export function retentionScheduleId(idPrefix = ''): string {
  return `${idPrefix}retention:daily`;
}

export function costAnomalyScheduleId(idPrefix = ''): string {
  return `${idPrefix}cost-anomaly:check`;
}

export function desiredSchedules(registry: ProviderRegistry, taskQueue: string, idPrefix = ''): DesiredSchedule[] {
  const probes: DesiredSchedule[] = Object.values(registry).map((provider) => ({
    scheduleId: probeScheduleId(provider.name, idPrefix),
    spec: { intervals: [{ every: `${provider.probe.intervalSeconds} seconds` }] },
    action: {
      type: 'startWorkflow',
      workflowType: 'healthProbe',
      workflowId: probeScheduleId(provider.name, idPrefix),
      taskQueue,
      args: [{ provider: provider.name } satisfies HealthProbeInput],
      typedSearchAttributes: startAttributes('healthProbe', { provider: provider.name }),
      workflowExecutionTimeout: '5 minutes',
    },
    note: `health probe of ${provider.name} every ${provider.probe.intervalSeconds} s`,
  }));
  const reports = (['hourly', 'daily'] as const).map(
    (window): DesiredSchedule => ({
      scheduleId: slaScheduleId(window, idPrefix),
      // At minute 0 of every hour / at 00:00 UTC, each covering the window that just ended.
      spec: { calendars: window === 'hourly' ? [{ minute: 0, hour: '*' }] : [{ minute: 0, hour: 0 }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'slaReport',
        workflowId: slaScheduleId(window, idPrefix),
        taskQueue,
        args: [{ window } satisfies SlaReportInput],
        typedSearchAttributes: startAttributes('slaReport'),
        workflowExecutionTimeout: '30 minutes',
      },
      note: `${window} SLA report`,
    }),
  );
  const retention: DesiredSchedule = {
    scheduleId: retentionScheduleId(idPrefix),
    // 03:30 UTC, away from the SLA reports; ages come from the worker's RETENTION_* settings.
    spec: { calendars: [{ minute: 30, hour: 3 }] },
    action: {
      type: 'startWorkflow',
      workflowType: 'pruneData',
      workflowId: retentionScheduleId(idPrefix),
      taskQueue,
      args: [{} satisfies PruneDataInput],
      typedSearchAttributes: startAttributes('pruneData'),
      workflowExecutionTimeout: '6 hours',
    },
    note: 'daily retention: prune ledger bodies, finished deliveries, probe results, cost rows',
  };
  const costAnomaly: DesiredSchedule = {
    scheduleId: costAnomalyScheduleId(idPrefix),
    // Windows and multiple come from the worker's COST_ANOMALY_* settings; every 5 minutes keeps a spike's alert prompt.
    spec: { intervals: [{ every: '5 minutes' }] },
    action: {
      type: 'startWorkflow',
      workflowType: 'costAnomalyCheck',
      workflowId: costAnomalyScheduleId(idPrefix),
      taskQueue,
      args: [{} satisfies CostAnomalyCheckInput],
      typedSearchAttributes: startAttributes('costAnomalyCheck'),
      workflowExecutionTimeout: '5 minutes',
    },
    note: 'cost anomaly rule: spend over the last window against its trailing baseline',
  };
  return [...probes, ...reports, retention, costAnomaly];
}

export async function syncSchedules(options: SyncSchedulesOptions): Promise<SyncResult> {
  const { client, registry, taskQueue, idPrefix = '', initiallyPaused = false, log = () => undefined } = options;
  const result: SyncResult = { created: [], updated: [], deleted: [] };
  const desired = desiredSchedules(registry, taskQueue, idPrefix);
  for (const schedule of desired) {
    const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' } as const;
    try {
      await client.schedule.create({
        scheduleId: schedule.scheduleId,
        spec: schedule.spec,
        action: schedule.action,
        policies,
        state: { note: schedule.note, paused: initiallyPaused },
        memo: { managedBy: 'switchyard' },
      });
      result.created.push(schedule.scheduleId);
      log(`created schedule ${schedule.scheduleId}`);
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      await client.schedule.getHandle(schedule.scheduleId).update((previous) => ({
        spec: schedule.spec,
        action: schedule.action,
        policies,
        // Keep an operator's pause (and its note) across restarts.
        state: previous.state.paused ? { paused: true, note: previous.state.note } : { paused: false, note: schedule.note },
      }));
      result.updated.push(schedule.scheduleId);
      log(`updated schedule ${schedule.scheduleId}`);
    }
  }
  const wanted = new Set(desired.map((s) => s.scheduleId));
  const probePrefix = probeScheduleId('', idPrefix);
  for await (const summary of client.schedule.list()) {
    if (!summary.scheduleId.startsWith(probePrefix) || wanted.has(summary.scheduleId)) continue;
    try {
      await client.schedule.getHandle(summary.scheduleId).delete();
      result.deleted.push(summary.scheduleId);
      log(`deleted schedule ${summary.scheduleId} (provider no longer in the registry)`);
    } catch (err) {
      // Listing is eventually consistent: a Schedule deleted a moment ago may still be listed.
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
  }
  return result;
}
