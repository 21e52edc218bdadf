/**
 * Webhooks are acknowledged once their ledger row is committed; the inbox drainer starts the
 * workflow a moment later. Tests that follow an accepted webhook into its run wait for the run here.
 */
import { WorkflowNotFoundError, type WorkflowClient, type WorkflowHandle } from '@temporalio/client';

/** The handle of `workflowId` once a run of it exists (the drainer started it), or an error after `timeoutMs`. */
/** The handle's result is `unknown`: callers say what they expect of it. */
export async function whenStarted(workflows: WorkflowClient, workflowId: string, timeoutMs = 60_000): Promise<WorkflowHandle<() => Promise<unknown>>> {
  const handle = workflows.getHandle<() => Promise<unknown>>(workflowId);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await handle.describe();
      return handle;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError) || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
