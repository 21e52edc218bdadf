/**
 * Every webhook-path activity reports which attempt it was, on success in its result and on
 * failure in the failure's details, so the workflow's `status` query can show attempt counts
 * without waiting for Temporal's retry loop to end.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { AttemptInfo } from '../contracts/webhook';

export async function withAttempt<T extends object>(run: () => Promise<T>): Promise<T & AttemptInfo> {
  const { attempt } = Context.current().info;
  try {
    return { ...(await run()), attempt };
  } catch (err) {
    if (err instanceof ApplicationFailure) {
      throw ApplicationFailure.create({
        message: err.message,
        type: err.type ?? undefined,
        nonRetryable: err.nonRetryable ?? undefined,
        details: [{ attempt }],
        nextRetryDelay: err.nextRetryDelay ?? undefined,
        cause: err.cause,
      });
    }
    const error = err instanceof Error ? err : new Error(String(err));
    throw ApplicationFailure.create({ message: error.message, type: error.name, details: [{ attempt }], cause: error });
  }
}
