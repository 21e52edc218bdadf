/**
 * The answer when a workflow start was not acknowledged: 503 + Retry-After when Temporal could not
 * be reached or the run that takes the request cannot yet (the caller retries; nothing was
 * accepted), 500 when the server refused the start.
 */
import type { Response } from 'express';
import type { Logger } from '../lib/logger';
import { sendError } from './errors';
import { grpcCode } from '../lib/temporal/workflow-starter';

export function sendStartFailure(res: Response, err: unknown, logger: Logger, workflowId: string): 'unavailable' | 'error' {
  const code = (err as { code?: number }).code;
  // Unreachable, too slow or overloaded (RESOURCE_EXHAUSTED), or an update refused by a run whose
  // workflow task is failing (FAILED_PRECONDITION: a worker lost the task, which the server retries
  // after its timeout): all transient, the caller retries.
  const unreachable =
    code === undefined ||
    code === grpcCode.UNAVAILABLE ||
    code === grpcCode.DEADLINE_EXCEEDED ||
    code === grpcCode.RESOURCE_EXHAUSTED ||
    code === grpcCode.FAILED_PRECONDITION;
  logger.error({ err, workflowId, grpcCode: code }, 'workflow start not acknowledged');
  if (unreachable) {
    res.setHeader('Retry-After', '5');
    sendError(res, 503, 'temporal_unavailable', 'the request could not be durably accepted; retry later');
    return 'unavailable';
  }
  sendError(res, 500, 'start_failed', `the workflow server refused the start (gRPC code ${code}); retry later`);
  return 'error';
}
