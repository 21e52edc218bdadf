/**
 * The exactly-once check, on the real systems after the run: Temporal (every run of every
 * processWebhook in visibility, plus a describe of each id the sender used) and PostgreSQL (ledger
 * and payment rows per event). Every accepted (acknowledged: any 2xx) event must have exactly one
 * run, completed, one completed ledger row written by that run and one payment; every event never
 * acknowledged (bad signatures, and any the sender gave up on) nothing at all. With the webhook
 * inbox a 2xx means "a committed row" and the drainer starts the run later, so the check waits
 * first for the inbox to drain and every run to close (`waitForDrain`).
 */
import { inParallel } from '../support/concurrency';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import type { Pool } from 'pg';
import { webhookWorkflowId, type WebhookStatus } from '../../contracts/webhook';
import { inboxBacklog } from '../../lib/data/webhook-inbox';
import type { Logger } from '../../lib/logger';
import type { PlannedEvent } from './plan';
import type { EventOutcome } from './sender';

export interface Violation {
  rule: string;
  count: number;
  examples: string[];
}

export interface Verification {
  acceptedEvents: number;
  notAcceptedEvents: number;
  badEvents: number;
  temporal: {
    processWebhookRuns: number;
    acceptedWithExactlyOneCompletedRun: number;
    badWithAnyRun: number;
    describedCompleted: number;
    resultSaysHandled: number;
  };
  postgres: {
    ledgerRows: number;
    acceptedWithExactlyOneCompletedLedgerRow: number;
    ledgerRowsWrittenByTheCompletedRun: number;
    paymentRows: number;
    acceptedWithExactlyOnePayment: number;
    badWithAnyRow: number;
    rowsForUnknownEvents: number;
  };
  /** Good events the sender gave up on that left a run, ledger row or payment (after an unanswered attempt: allowed). */
  notAcceptedWithTrace: number;
  answers202PerEvent: Record<string, number>;
  violations: Violation[];
}

const EXAMPLES = 10;

export interface RunSummary {
  workflowId: string;
  runId: string;
  status: string;
}

/** Every processWebhook run in the namespace's visibility, grouped by workflow id. */
export async function listWebhookRuns(client: Client): Promise<Map<string, RunSummary[]>> {
  const runs = new Map<string, RunSummary[]>();
  for await (const info of client.workflow.list({ query: "WorkflowType = 'processWebhook'", pageSize: 1000 })) {
    const list = runs.get(info.workflowId) ?? [];
    list.push({ workflowId: info.workflowId, runId: info.runId, status: info.status.name });
    runs.set(info.workflowId, list);
  }
  return runs;
}

export interface DrainState {
  /** Inbox rows not started yet (`started_at` NULL). */
  unstarted: number;
  open: number;
  completed: number;
  failed: number;
}

export interface DrainResult {
  drained: boolean;
  waitedMs: number;
  last: DrainState | undefined;
}

/**
 * Waits until the inbox is drained (no row waits for its start) and every accepted event's run has
 * closed: no processWebhook open and at least `accepted` closed. Both are read again after a second
 * to rule out a start in flight; errors (a component still restarting) are retried until `boundMs`.
 */
export async function waitForDrain(args: { client: Client; pool: Pool; accepted: number; boundMs: number; logger: Logger; everyMs?: number }): Promise<DrainResult> {
  const { client, pool, accepted, boundMs, logger } = args;
  const began = Date.now();
  let last: DrainState | undefined;
  let lastLine = 0;
  let doneOnce = false;
  while (Date.now() - began < boundMs) {
    const state = await Promise.all([inboxBacklog(pool), countOpenRuns(client)])
      .then(([backlog, runs]): DrainState => ({ unstarted: backlog.unstarted, ...runs }))
      .catch((err: unknown) => {
        logger.warn({ err: String(err) }, 'drain check failed; retrying');
        return undefined;
      });
    if (state) last = state;
    const done = state !== undefined && state.unstarted === 0 && state.open === 0 && state.completed + state.failed >= accepted;
    if (done && doneOnce) return { drained: true, waitedMs: Date.now() - began, last };
    doneOnce = done;
    if (state && !done && Date.now() - lastLine >= (args.everyMs ?? 5000)) {
      lastLine = Date.now();
      logger.info({ ...state, accepted, waitedS: Math.round((Date.now() - began) / 1000), boundS: Math.round(boundMs / 1000) }, 'waiting for the inbox to drain and the runs to close');
    }
    await new Promise((resolve) => setTimeout(resolve, done ? 1000 : 500));
  }
  return { drained: false, waitedMs: Date.now() - began, last };
}

/** How many processWebhook runs are still open (the wait loop's progress). */
export async function countOpenRuns(client: Client): Promise<{ open: number; completed: number; failed: number }> {
  const count = async (status: string): Promise<number> =>
    (await client.workflow.count(`WorkflowType = 'processWebhook' AND ExecutionStatus = '${status}'`)).count;
  const [open, completed, failed] = await Promise.all([count('Running'), count('Completed'), count('Failed')]);
  return { open, completed, failed };
}

export async function verifyRun(args: {
  client: Client;
  pool: Pool;
  tenant: string;
  events: PlannedEvent[];
  outcomes: Map<string, EventOutcome>;
}): Promise<Verification> {
  const { client, pool, tenant, events, outcomes } = args;
  const violations: Violation[] = [];
  const flag = (rule: string, ids: string[]): void => {
    if (ids.length > 0) violations.push({ rule, count: ids.length, examples: ids.slice(0, EXAMPLES) });
  };
  const idOf = (event: PlannedEvent): string => webhookWorkflowId(tenant, 'stripe', event.eventId);
  const good = events.filter((e) => e.bad === null);
  const bad = events.filter((e) => e.bad !== null);
  const accepted = good.filter((e) => outcomes.get(e.eventId)?.accepted === true);
  const notAccepted = good.filter((e) => outcomes.get(e.eventId)?.accepted !== true);
  flag('good event never accepted (the sender gave up)', notAccepted.map((e) => e.eventId));

  // Sender's view: 4xx to a correctly signed delivery, 2xx to a bad one, two 202s for one event.
  flag('correctly signed delivery refused with a 4xx', good.filter((e) => Object.keys(outcomes.get(e.eventId)?.answers ?? {}).some((s) => /^4\d\d$/.test(s))).map((e) => e.eventId));
  // A bad delivery may also meet a fault: no answer (the API killed) or 503 (PostgreSQL down, so the
  // stored secrets cannot be read and the provider must retry). Never a 2xx, and in the end a 401.
  const badDeliveryAnswers = new Set(['401', '503', 'connection', 'timeout']);
  flag('bad delivery answered other than 401 (or a fault\'s 503 / no answer)', bad.filter((e) => Object.keys(outcomes.get(e.eventId)?.answers ?? {}).some((s) => !badDeliveryAnswers.has(s))).map((e) => e.eventId));
  flag('bad delivery never answered 401', bad.filter((e) => !outcomes.get(e.eventId)?.answers['401']).map((e) => e.eventId));
  const answers202PerEvent: Record<string, number> = {};
  for (const e of good) {
    const n = String(outcomes.get(e.eventId)?.answers['202'] ?? 0);
    answers202PerEvent[n] = (answers202PerEvent[n] ?? 0) + 1;
  }
  flag('event answered 202 (newly started) more than once', good.filter((e) => (outcomes.get(e.eventId)?.answers['202'] ?? 0) > 1).map((e) => e.eventId));

  // Temporal: every run, from visibility, then a describe per id (visibility could lag).
  const runs = await listWebhookRuns(client);
  const processWebhookRuns = [...runs.values()].reduce((n, list) => n + list.length, 0);
  const oneCompleted = (e: PlannedEvent): boolean => {
    const list = runs.get(idOf(e)) ?? [];
    return list.length === 1 && list[0]!.status === 'COMPLETED';
  };
  flag('accepted event without exactly one run, completed (visibility)', accepted.filter((e) => !oneCompleted(e)).map((e) => `${e.eventId} runs=${JSON.stringify(runs.get(idOf(e)) ?? [])}`));
  flag('bad event has a workflow run (visibility)', bad.filter((e) => runs.has(idOf(e))).map((e) => e.eventId));
  flag('not-accepted event has more than one run', notAccepted.filter((e) => (runs.get(idOf(e))?.length ?? 0) > 1).map((e) => e.eventId));
  const known = new Set(events.map(idOf));
  flag('processWebhook run for an id the sender never used', [...runs.keys()].filter((id) => !known.has(id)));

  const acceptedIds = new Set(accepted.map((e) => e.eventId));
  const described = await inParallel(events, 16, async (e) => {
    try {
      const handle = client.workflow.getHandle(idOf(e));
      const d = await handle.describe();
      // The workflow's own account of what it did: the handler must have run in that run.
      const result = acceptedIds.has(e.eventId) && d.status.name === 'COMPLETED' ? ((await handle.result()) as WebhookStatus) : null;
      return { event: e, status: d.status.name, runId: d.runId, outcome: result?.outcome ?? null, handlerStep: result?.steps.handler.state ?? null };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return { event: e, status: 'NOT_FOUND', runId: null, outcome: null, handlerStep: null };
      throw err;
    }
  });
  const describedById = new Map(described.map((d) => [d.event.eventId, d]));
  const describedCompleted = accepted.filter((e) => describedById.get(e.eventId)?.status === 'COMPLETED').length;
  flag('accepted event not COMPLETED (describe)', accepted.filter((e) => describedById.get(e.eventId)?.status !== 'COMPLETED').map((e) => `${e.eventId} ${describedById.get(e.eventId)?.status}`));
  const resultHandled = (e: PlannedEvent): boolean => {
    const d = describedById.get(e.eventId);
    return d?.outcome === 'handled' && d.handlerStep === 'done';
  };
  flag('workflow result does not say handled (outcome handled, handler step done)', accepted.filter((e) => !resultHandled(e)).map((e) => `${e.eventId} outcome=${describedById.get(e.eventId)?.outcome} handler=${describedById.get(e.eventId)?.handlerStep}`));
  flag('bad event has a workflow (describe)', bad.filter((e) => describedById.get(e.eventId)?.status !== 'NOT_FOUND').map((e) => e.eventId));

  // PostgreSQL: ledger rows and payments per event id (and anything the sender never sent).
  const ledger = await pool.query<{ event_id: string; n: number; status: string; outcome: string | null; run_id: string | null }>(
    `SELECT event_id, count(*)::int AS n, min(status) AS status, min(outcome) AS outcome, min(run_id) AS run_id
       FROM webhook_events WHERE provider = 'stripe' GROUP BY event_id`,
  );
  const payments = await pool.query<{ event_id: string; n: number; payments: number }>(
    `SELECT source_event_id AS event_id, count(*)::int AS n, count(DISTINCT payment_id)::int AS payments
       FROM payments WHERE provider = 'stripe' GROUP BY source_event_id`,
  );
  const ledgerById = new Map(ledger.rows.map((r) => [r.event_id, r]));
  const paymentsById = new Map(payments.rows.map((r) => [r.event_id, r]));
  const ledgerTotal = ledger.rows.reduce((n, r) => n + r.n, 0);
  const paymentTotal = payments.rows.reduce((n, r) => n + r.n, 0);
  const ledgerOk = (e: PlannedEvent): boolean => {
    const row = ledgerById.get(e.eventId);
    return row !== undefined && row.n === 1 && row.status === 'completed' && row.outcome === 'handled';
  };
  flag('accepted event without exactly one completed, handled ledger row', accepted.filter((e) => !ledgerOk(e)).map((e) => `${e.eventId} ${JSON.stringify(ledgerById.get(e.eventId) ?? null)}`));
  const writtenByRun = accepted.filter((e) => {
    const runId = ledgerById.get(e.eventId)?.run_id;
    return runId !== undefined && runId !== null && runId === describedById.get(e.eventId)?.runId;
  }).length;
  flag('ledger row not written by the completed run', accepted.filter((e) => ledgerOk(e) && ledgerById.get(e.eventId)?.run_id !== describedById.get(e.eventId)?.runId).map((e) => e.eventId));
  const paymentOk = (e: PlannedEvent): boolean => paymentsById.get(e.eventId)?.n === 1;
  flag('accepted event without exactly one payment row', accepted.filter((e) => !paymentOk(e)).map((e) => `${e.eventId} n=${paymentsById.get(e.eventId)?.n ?? 0}`));
  const badWithRow = bad.filter((e) => ledgerById.has(e.eventId) || paymentsById.has(e.eventId)).map((e) => e.eventId);
  flag('bad event left a ledger or payment row', badWithRow);
  const eventIds = new Set(events.map((e) => e.eventId));
  const unknownRows = [...ledgerById.keys(), ...paymentsById.keys()].filter((id) => !eventIds.has(id));
  flag('ledger or payment row for an event the sender never sent', unknownRows);
  flag('not-accepted event has more than one ledger row or payment', notAccepted.filter((e) => (ledgerById.get(e.eventId)?.n ?? 0) > 1 || (paymentsById.get(e.eventId)?.n ?? 0) > 1).map((e) => e.eventId));
  // Never acknowledged: a trace is possible only if some attempt got no answer or a 5xx (the row may
  // have committed before the API died or its connection did); with only 4xx answers, none.
  const traceOf = (e: PlannedEvent): boolean => ledgerById.has(e.eventId) || paymentsById.has(e.eventId) || runs.has(idOf(e)) || describedById.get(e.eventId)?.status !== 'NOT_FOUND';
  const unanswered = (e: PlannedEvent): boolean => Object.keys(outcomes.get(e.eventId)?.answers ?? {}).some((s) => s === 'timeout' || s === 'connection' || /^5\d\d$/.test(s));
  const notAcceptedWithTrace = notAccepted.filter(traceOf);
  flag('never-acknowledged event left a trace although every attempt was answered with a refusal', notAcceptedWithTrace.filter((e) => !unanswered(e)).map((e) => e.eventId));

  return {
    acceptedEvents: accepted.length,
    notAcceptedEvents: notAccepted.length,
    badEvents: bad.length,
    temporal: {
      processWebhookRuns,
      acceptedWithExactlyOneCompletedRun: accepted.filter(oneCompleted).length,
      badWithAnyRun: bad.filter((e) => runs.has(idOf(e)) || describedById.get(e.eventId)?.status !== 'NOT_FOUND').length,
      describedCompleted,
      resultSaysHandled: accepted.filter(resultHandled).length,
    },
    postgres: {
      ledgerRows: ledgerTotal,
      acceptedWithExactlyOneCompletedLedgerRow: accepted.filter(ledgerOk).length,
      ledgerRowsWrittenByTheCompletedRun: writtenByRun,
      paymentRows: paymentTotal,
      acceptedWithExactlyOnePayment: accepted.filter(paymentOk).length,
      badWithAnyRow: badWithRow.length,
      rowsForUnknownEvents: unknownRows.length,
    },
    notAcceptedWithTrace: notAcceptedWithTrace.length,
    answers202PerEvent,
    violations,
  };
}
