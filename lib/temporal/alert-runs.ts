/**
 * Raising and resolving an `alert` workflow by its id (`alert:{rule}:{fingerprint}`): the one path
 * every alert source takes, the monitoring activities (probes, SLA reports, budgets) and the API's
 * Alertmanager receiver alike, so whatever raised an alert, it is notified and escalated the same
 * way. Raising is signal-with-start: a condition already alerting is signalled, never alerted twice,
 * and a closed alert starts again. An alert the `alerts` table shows open is left alone, so a
 * source that re-reports a condition every few seconds adds nothing to the workflow's history.
 */
import { WorkflowNotFoundError, type WorkflowClient } from '@temporalio/client';
import type { Pool } from 'pg';
import { alertState } from '../data/alerts';
import { startAttributes } from '../../contracts/search-attributes';
import { alertWorkflowId, raiseAlertSignal, resolveAlertSignal, type AlertInput } from '../../contracts/monitoring';

export interface AlertRunDeps {
  workflows: WorkflowClient;
  pool: Pool;
}

/** The alert's saved state: 'open' (firing or acknowledged), 'resolved', or 'unrecorded' (no row yet). */
async function savedState(pool: Pool, workflowId: string): Promise<'open' | 'resolved' | 'unrecorded'> {
  const state = await alertState(pool, workflowId);
  if (state === undefined) return 'unrecorded';
  return state === 'resolved' ? 'resolved' : 'open';
}

/** Starts the alert on `taskQueue`, or tells the running one the condition still holds. */
export async function raiseAlertRun(
  deps: AlertRunDeps & { taskQueue: string },
  input: AlertInput,
): Promise<{ workflowId: string; alreadyOpen: boolean }> {
  const workflowId = alertWorkflowId(input.rule, input.fingerprint);
  if ((await savedState(deps.pool, workflowId)) === 'open') return { workflowId, alreadyOpen: true };
  await deps.workflows.signalWithStart('alert', {
    workflowId,
    taskQueue: deps.taskQueue,
    args: [input],
    signal: raiseAlertSignal,
    signalArgs: [{ summary: input.summary, details: input.details }],
    typedSearchAttributes: startAttributes('alert', { provider: input.provider }),
  });
  return { workflowId, alreadyOpen: false };
}

/**
 * Resolves the alert if its run is open; nothing to do otherwise. `unrecorded` says what to do
 * when the table has no row yet: 'skip' suits callers that ask on every healthy check (most
 * conditions never alerted); 'signal' suits a source whose resolve may follow its raise before the
 * run first saved itself (a signal to a closed or unknown run is simply not delivered).
 */
export async function resolveAlertRun(
  deps: AlertRunDeps,
  request: { rule: string; fingerprint: string; reason: string },
  unrecorded: 'skip' | 'signal' = 'skip',
): Promise<{ workflowId: string; resolved: boolean }> {
  const workflowId = alertWorkflowId(request.rule, request.fingerprint);
  const state = await savedState(deps.pool, workflowId);
  if (state === 'resolved' || (state === 'unrecorded' && unrecorded === 'skip')) return { workflowId, resolved: false };
  try {
    await deps.workflows.getHandle(workflowId).signal(resolveAlertSignal, { reason: request.reason });
    return { workflowId, resolved: true };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { workflowId, resolved: false };
    throw err;
  }
}
