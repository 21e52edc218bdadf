/**
 * The worker process: JSON logs through pino, Temporal SDK metrics and our own on Prometheus
 * ports, graceful shutdown on SIGINT/SIGTERM (in-flight tasks finish, then the process exits).
 */
import { NativeConnection, Runtime } from '@temporalio/worker';
import { loadConfig } from '../lib/config';
import { loadRegistry } from '../lib/registry';
import { createPool } from '../lib/db';
import { createLogger } from '../lib/logger';
import { Registry } from 'prom-client';
import { batchMetricsRegistry } from '../activities/batches';
import { cacheMetricsRegistry } from '../activities/cache';
import { providerMetricsRegistry } from '../activities/providers/metrics';
import { createWorkerMetrics, serveMetrics } from './metrics';
import { PinoSdkLogger } from './sdk-logger';
import { createWorkers } from './worker';
import { loadMonitoringConfig } from '../lib/monitoring-config';
import { connectClient } from '../lib/temporal';
import { syncSchedules } from './schedules';

async function main(): Promise<void> {
  const config = loadConfig();
  const registry = loadRegistry();
  const logger = createLogger('switchyard-worker', config.LOG_LEVEL);
  Runtime.install({
    logger: new PinoSdkLogger(logger),
    telemetryOptions: config.TEMPORAL_SDK_METRICS_PORT
      ? { metrics: { prometheus: { bindAddress: `0.0.0.0:${config.TEMPORAL_SDK_METRICS_PORT}` } } }
      : undefined,
  });
  const pool = createPool(config.DATABASE_URL, {}, logger);
  const metrics = createWorkerMetrics();
  const metricsServer = await serveMetrics(
    Registry.merge([metrics.registry, providerMetricsRegistry, cacheMetricsRegistry, batchMetricsRegistry]),
    config.WORKER_METRICS_PORT,
  );
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const workers = await createWorkers({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    pool,
    registry,
    providerTaskQueuePrefix: config.PROVIDER_TASK_QUEUE_PREFIX,
    deliveryRetrySchedule: config.DELIVERY_RETRY_SCHEDULE,
    metrics,
  });
  if (loadMonitoringConfig().SCHEDULES_AT_WORKER_START === 'true') {
    // Monitoring Schedules follow the registry; a failure here is logged, the worker still runs.
    try {
      const client = await connectClient(config.TEMPORAL_ADDRESS, config.TEMPORAL_NAMESPACE);
      const result = await syncSchedules({ client, registry, taskQueue: config.TEMPORAL_TASK_QUEUE });
      await client.connection.close();
      logger.info(result, 'monitoring schedules synced');
    } catch (err) {
      logger.error({ err }, 'monitoring schedules could not be synced; run `npm run schedules`');
    }
  }
  logger.info(
    {
      temporal: config.TEMPORAL_ADDRESS,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      providerQueues: Object.values(registry).map((p) => `${config.PROVIDER_TASK_QUEUE_PREFIX}${p.name} (${p.rateLimitPerSecond}/s)`),
      metrics: `http://127.0.0.1:${config.WORKER_METRICS_PORT}/metrics`,
    },
    'worker started',
  );
  try {
    await workers.run(); // resolves after a shutdown signal once in-flight tasks are done
  } finally {
    await connection.close();
    await pool.end();
    metricsServer.close();
    logger.info('worker stopped');
  }
}

main().catch((err: unknown) => {
  createLogger('switchyard-worker').fatal({ err }, 'worker failed');
  process.exit(1);
});
