/**
 * providerCall: one outbound provider operation as a durable workflow, and `executeProviderCall`,
 * the same steps for other workflows (sagas) to use: plan (candidates, circuits, costs) → for each
 * candidate in order: reserve budget → call on the provider's own task queue → settle, or release
 * and fail over when the operation allows it and the failure was the provider's (retries
 * exhausted, circuit open), not the request's.
 */
import {
  ApplicationFailure,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import {
  providerCallStatusQuery,
  type CandidateStatus,
  type ProviderCallInput,
  type ProviderCallResult,
  type ProviderCallStatus,
} from '../contracts/call';
import { localActivityOptions, remoteActivityOptions, requestErrorTypes } from './policies';
import { failureOf, runStep } from './steps';

type Activities = ReturnType<typeof createActivities>;

const { planProviderCall } = proxyLocalActivities<Activities>(localActivityOptions('planProviderCall'));
const { reserveBudget } = proxyLocalActivities<Activities>(localActivityOptions('reserveBudget'));
const { settleBudget } = proxyLocalActivities<Activities>(localActivityOptions('settleBudget'));
const { releaseBudget } = proxyLocalActivities<Activities>(localActivityOptions('releaseBudget'));

const requestErrors = new Set(requestErrorTypes);

export interface ExecuteOptions {
  /** Use the compensation policy (unlimited, patient retries) instead of the call policy. */
  compensation?: boolean;
  /** Receives status updates (for a query handler). */
  status?: ProviderCallStatus;
}

export function newCallStatus(call: Pick<ProviderCallInput, 'tenant' | 'provider' | 'operation'>): ProviderCallStatus {
  return {
    status: 'running',
    tenant: call.tenant,
    provider: call.provider,
    operation: call.operation,
    servedBy: null,
    failedOver: false,
    candidates: [],
    result: null,
    error: null,
    errorType: null,
  };
}

export async function executeProviderCall(call: ProviderCallInput, options: ExecuteOptions = {}): Promise<ProviderCallResult> {
  const status = options.status ?? newCallStatus(call);
  const plan = await planProviderCall({ provider: call.provider, operation: call.operation });
  const { workflowId } = workflowInfo();
  let lastFailure: unknown;

  for (const [index, candidate] of plan.candidates.entries()) {
    const entry: CandidateStatus = { provider: candidate.provider, state: 'pending', attempts: 0, lastError: null };
    status.candidates.push(entry);
    const hasNext = index < plan.candidates.length - 1;
    if (candidate.circuit === 'open' && hasNext) {
      entry.state = 'skipped';
      entry.skippedBecause = `circuit open for another ${candidate.remainingOpenMs} ms`;
      continue;
    }
    const reservation = `${workflowId}:${status.candidates.length}:${candidate.provider}:${call.operation}`;
    try {
      await reserveBudget({
        reservation,
        tenant: call.tenant,
        provider: candidate.provider,
        operation: call.operation,
        workflowId,
        amountUsd: candidate.costUsd,
        critical: call.priority === 'critical' || options.compensation === true,
      });
    } catch (err) {
      entry.state = 'failed';
      entry.lastError = failureOf(err).message;
      lastFailure = err;
      if (plan.failoverCapable && hasNext) continue;
      break;
    }
    const activity = options.compensation ? 'compensateProviderCall' : 'callProvider';
    const proxy = proxyActivities<Activities>(remoteActivityOptions(activity, candidate.taskQueue))[activity];
    try {
      const result = await runStep(entry, () =>
        proxy({
          tenant: call.tenant,
          provider: candidate.provider,
          operation: call.operation,
          params: call.params,
          failFastWhenOpen: plan.failoverCapable && hasNext,
        }),
      );
      // A cache hit reached no provider: its reservation is settled at nothing.
      await settleBudget(reservation, result.cached ? 0 : undefined);
      status.servedBy = candidate.provider;
      status.failedOver = candidate.provider !== call.provider;
      status.result = result.data;
      status.status = 'completed';
      return {
        provider: call.provider,
        operation: call.operation,
        servedBy: candidate.provider,
        failedOver: status.failedOver,
        data: result.data,
        ...(result.cached ? { cached: true } : {}),
        ...(result.stale ? { stale: true, staleSince: result.staleSince } : {}),
      };
    } catch (err) {
      await releaseBudget(reservation);
      lastFailure = err;
      const failure = failureOf(err);
      if (!plan.failoverCapable || !hasNext || requestErrors.has(failure.type ?? '')) break;
    }
  }

  const failure = failureOf(lastFailure);
  status.status = 'failed';
  status.error = failure.message;
  status.errorType = failure.type ?? null;
  throw ApplicationFailure.create({
    message: `${call.provider} ${call.operation} failed: ${failure.message}`,
    type: failure.type ?? 'ProviderCallFailed',
    nonRetryable: true,
    details: [{ provider: call.provider, operation: call.operation, candidates: status.candidates }],
  });
}

export async function providerCall(call: ProviderCallInput): Promise<ProviderCallResult> {
  const status = newCallStatus(call);
  setHandler(providerCallStatusQuery, () => status);
  return executeProviderCall(call, { status });
}
