/**
 * The workflow bundle the test workers and replays run: the one jest's global set-up made of this
 * run's workflows/ source (TEST_WORKFLOW_BUNDLE, test/support/global-setup.ts), or, without it,
 * one made here, once per test file (bundling takes seconds). Either is made with the encrypting
 * workers' failure converter (workers/worker.ts bundleWorkflows): every test worker and replay has
 * a keyring (global-setup.ts useTestKeyrings).
 */
import type { WorkerOptions } from '@temporalio/worker';
import { bundleWorkflows } from '../../workers/worker';

let bundle: Promise<{ code: string }> | undefined;

export function workflowBundle(): Promise<NonNullable<WorkerOptions['workflowBundle']>> {
  const codePath = process.env.TEST_WORKFLOW_BUNDLE;
  if (codePath) return Promise.resolve({ codePath });
  bundle ??= bundleWorkflows();
  return bundle;
}
