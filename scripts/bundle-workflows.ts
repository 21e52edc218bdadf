/**
 * Writes the workflow bundle a worker can start from (WORKFLOW_BUNDLE_PATH) instead of bundling
 * workflows/ itself at every start:
 *   npm run bundle:workflows [-- <file>]     (default dist/workflow-bundle.js)
 * Make it from the same build the workers run: a bundle of other workflow code would not replay
 * their histories.
 */
import path from 'node:path';
import { projectRoot } from '../lib/config/paths';
import { writeWorkflowBundle } from '../workers/worker';

async function main(): Promise<void> {
  const file = path.resolve(process.argv[2] ?? path.join(projectRoot, 'dist', 'workflow-bundle.js'));
  const bytes = await writeWorkflowBundle(file);
  console.log(`wrote ${path.relative(process.cwd(), file)} (${Math.round(bytes / 1024)} KiB): start workers with WORKFLOW_BUNDLE_PATH=${file}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
