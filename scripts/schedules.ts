/**
 * `npm run schedules`: create or update the monitoring Schedules (one healthProbe per provider,
 * hourly and daily slaReport) from the provider registry, and delete probe Schedules of removed
 * providers. Idempotent; the worker does the same at start.
 *   node dist/scripts/schedules.js
 */
import { loadConfig } from '../lib/config/config';
import { loadRegistry } from '../lib/config/registry';
import { connectClient } from '../lib/temporal/connection';
import { syncSchedules } from '../workers/schedules';

async function main(): Promise<void> {
  const config = loadConfig();
  const client = await connectClient(config.TEMPORAL_ADDRESS, config.TEMPORAL_NAMESPACE, config.PAYLOAD_ENCRYPTION_KEYS);
  try {
    const result = await syncSchedules({
      client,
      registry: loadRegistry(),
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      log: (line) => console.log(`[schedules] ${line}`),
    });
    console.log(
      `[schedules] ${result.created.length} created, ${result.updated.length} updated, ${result.deleted.length} deleted (namespace ${config.TEMPORAL_NAMESPACE})`,
    );
  } finally {
    await client.connection.close();
  }
}

main().catch((err: unknown) => {
  console.error(`[schedules] failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
