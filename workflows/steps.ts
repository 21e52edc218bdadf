/**
 * Step bookkeeping shared by every workflow: run one activity call while keeping its state,
 * attempt count and last error in the workflow's queryable status.
 */
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { AttemptInfo, StepStatus } from '../contracts/webhook';

export function pendingStep(): StepStatus {
  return { state: 'pending', attempts: 0, lastError: null };
}

/** The failure an activity (or child) reported, unwrapped from Temporal's ActivityFailure. */
export function failureOf(err: unknown): { message: string; type: string | null; attempt?: number } {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    // Activities attach their attempt number to the failure (activities/attempts.ts).
    const detail = cause.details?.[0] as Partial<AttemptInfo> | undefined;
    return { message: cause.message, type: cause.type ?? null, attempt: typeof detail?.attempt === 'number' ? detail.attempt : undefined };
  }
  return { message: cause instanceof Error ? cause.message : String(cause), type: cause instanceof Error ? cause.name : null };
}

/** Runs one step, keeping its state, attempt count and last error in the queryable status. */
export async function runStep<T extends AttemptInfo>(step: StepStatus, run: () => Promise<T>): Promise<T> {
  step.state = 'running';
  try {
    const result = await run();
    step.state = 'done';
    step.attempts = result.attempt;
    return result;
  } catch (err) {
    const failure = failureOf(err);
    step.state = 'failed';
    step.attempts = failure.attempt ?? step.attempts;
    step.lastError = failure.message;
    throw err;
  }
}
