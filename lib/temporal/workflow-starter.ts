/**
 * Starting a workflow by its idempotency id and learning whether this call started it.
 *
 * The SDK's `start()` with the USE_EXISTING conflict policy returns a handle either way and drops
 * the server's `started` flag; the API needs that flag to answer 202 (first delivery) or 200
 * (duplicate). This subclass sends the very request the SDK builds (same data converter, search
 * attribute encoding and policies) and keeps the flag.
 */
import {
  compileWorkflowOptions,
  type CompiledWorkflowOptions,
  isGrpcServiceError,
  WorkflowClient,
  type WorkflowStartOptions,
} from '@temporalio/client';
import type { Workflow } from '@temporalio/common';

/** gRPC status codes (google.rpc.Code) the API distinguishes. */
export const grpcCode = { DEADLINE_EXCEEDED: 4, ALREADY_EXISTS: 6, RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, UNAVAILABLE: 14 } as const;

export interface StartOutcome {
  workflowId: string;
  /** Run id of the new run, or of the existing (open or closed) one. */
  runId: string;
  /** true when this call created the run. */
  started: boolean;
}

export interface IdempotentStart {
  taskQueue: string;
  workflowId: string;
  args: unknown[];
  typedSearchAttributes?: WorkflowStartOptions['typedSearchAttributes'];
  /** ms to wait for the server's acknowledgement. */
  timeoutMs: number;
  /**
   * An operator's explicit re-run (replay, retry): a closed run with the id may run again
   * (`failedOnly`: only when it failed). Never used for provider redeliveries.
   */
  rerun?: 'closed' | 'failedOnly';
}

export class WorkflowStarter extends WorkflowClient {
  /**
   * Switchyard's one way to start a workflow by its idempotency id (ARCHITECTURE.md "Duplicates"):
   * an open run with the id is returned as is, a closed one is never run again.
   */
  async startIdempotent(workflowType: string, start: IdempotentStart): Promise<StartOutcome> {
    return this.withDeadline(Date.now() + start.timeoutMs, () =>
      this.startOrAttach(workflowType, {
        taskQueue: start.taskQueue,
        workflowId: start.workflowId,
        args: start.args,
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy:
          start.rerun === 'closed' ? 'ALLOW_DUPLICATE' : start.rerun === 'failedOnly' ? 'ALLOW_DUPLICATE_FAILED_ONLY' : 'REJECT_DUPLICATE',
        typedSearchAttributes: start.typedSearchAttributes,
      }),
    );
  }

  async startOrAttach<T extends Workflow>(workflowType: string, options: WorkflowStartOptions<T>): Promise<StartOutcome> {
    const request = await this.createStartWorkflowRequest({
      workflowType,
      headers: {},
      options: compileWorkflowOptions({ ...options, args: options.args ?? [] }) as CompiledWorkflowOptions,
    });
    try {
      const response = await this.workflowService.startWorkflowExecution(request);
      // Servers before 1.25 leave `started` unset; they only return a run id for a new start.
      return { workflowId: options.workflowId, runId: response.runId, started: response.started !== false };
    } catch (err) {
      // A closed run with the same id under the REJECT_DUPLICATE reuse policy: a duplicate.
      if (isGrpcServiceError(err) && (err.code as number) === grpcCode.ALREADY_EXISTS) {
        const { runId } = await this.getHandle(options.workflowId).describe();
        return { workflowId: options.workflowId, runId, started: false };
      }
      throw err;
    }
  }
}
