/**
 * What the API shows of one workflow: its execution status from `describe` merged with the
 * workflow's own `status` query (and, for the status routes, its result once closed). One place
 * for the 404 / 503 answers of every "GET a workflow" route.
 */
import type { Request, Response } from 'express';
import type { QueryDefinition } from '@temporalio/common';
import type { Logger } from '../lib/logger';
import type { Config } from '../lib/config/config';
import { sendError } from './errors';
import { requireTenant, workflowBelongsTo } from './tenant';
import type { WorkflowStarter } from '../lib/temporal/workflow-starter';

export interface WorkflowView {
  workflowId: string;
  runId: string;
  executionStatus: string;
  startTime: string;
  closeTime: string | null;
  [field: string]: unknown;
}

export async function viewWorkflow<S extends object>(
  workflows: WorkflowStarter,
  workflowId: string,
  query: QueryDefinition<S>,
  timeoutMs: number,
  logger: Logger,
): Promise<WorkflowView> {
  const handle = workflows.getHandle(workflowId);
  const description = await workflows.withDeadline(Date.now() + timeoutMs, () => handle.describe());
  const status = await workflows
    .withDeadline(Date.now() + timeoutMs, () => handle.query(query))
    .catch((err: unknown) => {
      logger.warn({ err, workflowId }, 'status query failed');
      return null;
    });
  return {
    workflowId,
    runId: description.runId,
    executionStatus: description.status.name,
    startTime: description.startTime.toISOString(),
    closeTime: description.closeTime?.toISOString() ?? null,
    // null while no worker has answered the query yet (e.g. all workers down)
    ...(status ?? { status: null }),
  };
}

/** Answers a failed read of a workflow: 404 when it does not exist, else 503 (Temporal unreachable). */
export function sendViewFailure(res: Response, err: unknown, logger: Logger, workflowId: string): void {
  if ((err as { name?: string }).name === 'WorkflowNotFoundError') {
    sendError(res, 404, 'not_found', `no workflow with id ${workflowId}`);
    return;
  }
  logger.error({ err, workflowId }, 'describe failed');
  res.setHeader('Retry-After', '5');
  sendError(res, 503, 'temporal_unavailable', 'could not read the workflow from Temporal');
}

/** An Express handler for `GET .../:workflowId` answering `viewWorkflow` (or 404 / 503). */
export function workflowViewHandler<S extends object>(
  workflows: WorkflowStarter,
  query: QueryDefinition<S>,
  config: Pick<Config, 'DEFAULT_TENANT' | 'TEMPORAL_START_TIMEOUT_MS'>,
  logger: Logger,
) {
  const timeoutMs = config.TEMPORAL_START_TIMEOUT_MS;
  return async (req: Request<{ workflowId: string }>, res: Response): Promise<void> => {
    const tenant = requireTenant(req, res, config);
    if (!tenant) return;
    // Another tenant's workflow is answered exactly like a missing one.
    if (!workflowBelongsTo(req.params.workflowId, tenant)) return sendError(res, 404, 'not_found', `no workflow with id ${req.params.workflowId}`);
    try {
      res.json(await viewWorkflow(workflows, req.params.workflowId, query, timeoutMs, logger));
    } catch (err) {
      sendViewFailure(res, err, logger, req.params.workflowId);
    }
  };
}
