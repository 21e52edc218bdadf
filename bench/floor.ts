/**
 * The bench-only worker of the Temporal floor (phase (i) of bench/burst.ts), run in its own process:
 *   node dist/bench/floor.js <task queue>
 * It bundles bench/floor-workflows.ts with bundleWorkflowCode and polls its own task queue on the
 * stack's dev server (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE). With PAYLOAD_ENCRYPTION_KEYS it seals
 * payloads with the same codec and failure converter as the product's worker, so the floor pays
 * what `processWebhook` pays for encryption. SDK defaults otherwise (cache, task slots).
 * Prints `ready` once it polls.
 */
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { parseKeyring } from '../lib/security/keyring';
import { payloadDataConverter } from '../lib/security/payload-codec';
import type { FloorActivities } from './floor-workflows';

const failureConverterPath = require.resolve('../workflows/failure-converter');

async function main(taskQueue: string): Promise<void> {
  const keys = process.env.PAYLOAD_ENCRYPTION_KEYS;
  const parsed = keys ? parseKeyring(keys) : undefined;
  if (parsed && 'problems' in parsed) throw new Error(`PAYLOAD_ENCRYPTION_KEYS: ${parsed.problems.join('; ')}`);
  const codec = payloadDataConverter(parsed?.keyring);
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('./floor-workflows'),
    ...(codec ? { failureConverterPath } : {}),
    logger: { trace: () => undefined, debug: () => undefined, info: () => undefined, warn: console.warn, error: console.error, log: () => undefined },
  });
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' });
  const activities: FloorActivities = { noop: () => Promise.resolve() };
  const worker = await Worker.create({
    connection,
    namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue,
    workflowBundle,
    activities,
    ...(codec ? { dataConverter: { ...codec, failureConverterPath } } : {}),
  });
  process.once('SIGTERM', () => worker.shutdown());
  const running = worker.run();
  console.log('ready');
  await running;
  await connection.close();
}

if (require.main === module) {
  main(process.argv[2] ?? 'bench-floor').catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
