/**
 * The run's result: a plain-text table for the terminal and the same figures as JSON
 * (test-artifacts/faults.json) for docs/RELIABILITY.md and CI.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FaultSuiteOptions } from './options';
import type { DeliveryPlan } from './plan';
import type { SenderStats } from './sender';
import type { FaultRecord } from './timeline';
import type { DrainState, Verification } from './verify';

export interface UnplannedExit {
  component: string;
  code: number | null;
  signal: string | null;
  atS: number;
}

export interface FaultSuiteReport {
  ok: boolean;
  startedAt: string;
  options: FaultSuiteOptions;
  machine: Record<string, string | number>;
  plan: DeliveryPlan['counts'];
  sender: SenderStats;
  faults: FaultRecord[];
  unplannedExits: UnplannedExit[];
  rates: {
    /** Deliveries started per second the sender aimed at (0: unpaced). */
    targetSendPerS: number;
    achievedSendPerS: number;
    /** Accepted events per second of the end-to-end time. */
    completedPerS: number;
  };
  timings: {
    setupS: number;
    sendS: number;
    /** From the first delivery until every accepted event's workflow completed. */
    endToEndS: number;
    settleAfterSendS: number;
    verifyS: number;
    totalS: number;
    settled: boolean;
  };
  /** The inbox backlog and run counts when the drain wait ended. */
  drain: DrainState | null;
  verification: Verification;
}

const row = (label: string, value: string | number, expected?: string | number): string =>
  expected === undefined ? `  ${label.padEnd(58)} ${String(value)}` : `  ${label.padEnd(58)} ${String(value).padStart(8)}   (expected ${expected})`;

const listed = (record: Record<string, number | undefined>): string =>
  Object.entries(record)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ') || 'none';

export function formatReport(r: FaultSuiteReport): string {
  const v = r.verification;
  const accepted = v.acceptedEvents;
  const lines = [
    '',
    `Switchyard fault suite (${r.options.mode}${r.options.mode === 'burst' ? `, ${r.options.concurrency} in flight, one burst per fault` : ''}): ${r.plan.deliveries} deliveries, seed ${r.options.seed}, ${r.machine.cpus} CPUs (${r.machine.cpuModel}), load average ${r.machine.loadAverage1mAtStart} → ${r.machine.loadAverage1mAtEnd}`,
    'sent',
    row('deliveries', r.plan.deliveries),
    row('first sends (distinct correctly signed events)', r.plan.firstSends),
    row('duplicates (concurrent with the first send / later)', `${r.plan.duplicates} (${r.plan.duplicatesConcurrent} / ${r.plan.duplicatesLater})`),
    row('bad signatures (distinct events)', r.plan.bad),
    row('HTTP attempts', r.sender.attempts),
    row('answers', listed(r.sender.answers)),
    row('retries by cause', listed(r.sender.retries)),
    row('deliveries retried at least once / given up', `${r.sender.retriedDeliveries} / ${r.sender.gaveUp}`),
    row('longest retry span of one delivery (s)', (r.sender.longestRetryMs / 1000).toFixed(1)),
    row('events answered 202 n times (n: events)', listed(v.answers202PerEvent)),
    'faults (share of deliveries dispatched when fired; unavailable = kill until answering again)',
    ...r.faults.map((f) =>
      row(
        `${f.kind.padEnd(9)} at ${(f.firedAtShare * 100).toFixed(1)}% (t=${f.firedAtS}s, ${f.inFlightAtFire} in flight)`,
        `down ${(f.plannedDownMs / 1000).toFixed(1)}s, unavailable ${(f.unavailableMs / 1000).toFixed(1)}s, restart ${(f.restartMs / 1000).toFixed(1)}s${f.error ? `, ERROR ${f.error}` : ''}`,
      ),
    ),
    ...(r.faults.length === 0 ? ['  none'] : []),
    row('unplanned process exits', r.unplannedExits.length === 0 ? 'none' : r.unplannedExits.map((e) => `${e.component}@${e.atS}s`).join(', ')),
    'exactly once (Temporal and PostgreSQL, checked after the run)',
    row('accepted events', accepted, r.plan.firstSends),
    row('not accepted (sender gave up)', v.notAcceptedEvents, 0),
    row('of those, with a run, ledger row or payment', v.notAcceptedWithTrace, 0),
    row('inbox rows waiting / runs open when the drain wait ended', r.drain ? `${r.drain.unstarted} / ${r.drain.open}` : 'unknown', '0 / 0'),
    row('accepted with exactly one run, COMPLETED (visibility)', v.temporal.acceptedWithExactlyOneCompletedRun, accepted),
    row('accepted COMPLETED (describe)', v.temporal.describedCompleted, accepted),
    row('accepted whose workflow result says handled', v.temporal.resultSaysHandled, accepted),
    row('processWebhook runs in total', v.temporal.processWebhookRuns, accepted),
    row('accepted with exactly one completed ledger row', v.postgres.acceptedWithExactlyOneCompletedLedgerRow, accepted),
    row('ledger rows written by that completed run', v.postgres.ledgerRowsWrittenByTheCompletedRun, accepted),
    row('ledger rows in total', v.postgres.ledgerRows, accepted),
    row('accepted with exactly one payment (handler side effect)', v.postgres.acceptedWithExactlyOnePayment, accepted),
    row('payment rows in total', v.postgres.paymentRows, accepted),
    row('bad events refused with 401', r.sender.answers['401'] ?? 0, v.badEvents),
    row('bad events with a run, ledger row or payment', v.temporal.badWithAnyRun + v.postgres.badWithAnyRow, 0),
    row('rows for events never sent', v.postgres.rowsForUnknownEvents, 0),
    'time',
    row('send rate: target / achieved (deliveries/s)', `${r.rates.targetSendPerS} / ${r.rates.achievedSendPerS}`),
    row('accepted events completed per second, end to end', r.rates.completedPerS),
    row('set-up (cluster, dev server, worker, API) s', r.timings.setupS),
    row('send s', r.timings.sendS),
    row('end to end: first delivery until all accepted completed s', `${r.timings.endToEndS}${r.timings.settled ? '' : ' (NOT SETTLED)'}`),
    row('verification s', r.timings.verifyS),
    row('total s', r.timings.totalS),
    counts(r),
    v.violations.length === 0 && r.ok ? 'RESULT: no violations' : 'RESULT: VIOLATIONS',
    ...v.violations.map((x) => `  ${x.rule}: ${x.count}\n    e.g. ${x.examples.join('\n         ')}`),
    '',
  ];
  return lines.join('\n');
}

/** One line with the figures that matter, the same in both modes (CI logs grep for `COUNTS`). */
export function counts(r: FaultSuiteReport): string {
  const v = r.verification;
  const refused = Object.entries(r.sender.answers)
    .filter(([status]) => /^4\d\d$/.test(status))
    .reduce((n, [, k]) => n + k, 0);
  const completedRuns = v.temporal.describedCompleted;
  return [
    `COUNTS mode=${r.options.mode}`,
    `acknowledged=${v.acceptedEvents}`,
    `unacknowledged=${v.notAcceptedEvents + v.badEvents}`,
    `answered202=${r.sender.answers['202'] ?? 0}`,
    `duplicates200=${r.sender.answers['200'] ?? 0}`,
    `refused4xx=${refused}`,
    `unanswered=${(r.sender.answers.connection ?? 0) + (r.sender.answers.timeout ?? 0)}`,
    `answered5xx=${Object.entries(r.sender.answers).filter(([s]) => /^5\d\d$/.test(s)).reduce((n, [, k]) => n + k, 0)}`,
    `ledgerRows=${v.postgres.ledgerRows}`,
    `payments=${v.postgres.paymentRows}`,
    `runs=${v.temporal.processWebhookRuns}`,
    `completedRuns=${completedRuns}`,
    `violations=${v.violations.length}`,
  ].join(' ');
}

export function writeReport(dir: string, report: FaultSuiteReport, fileName = 'faults.json'): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, fileName);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}
