/**
 * The worker process: JSON logs through pino, Temporal SDK metrics and our own on Prometheus
 * ports (ours with /healthz, /readyz (ready while every worker polls) and /startupz (once migrated
 * and polling)), graceful shutdown on SIGINT/SIGTERM: every worker stops polling, running activities get
 * SHUTDOWN_GRACE_MS to finish (then they are cancelled and retried elsewhere), and only then are
 * the metrics server, the native connection and the pool closed; exit 0 (1 if draining failed).
 */
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { loadConfig, type Config } from '../lib/config/config';
import { outboundPolicyOf } from '../lib/security/outbound-policy';
import { loadRegistry } from '../lib/config/registry';
import { createPool } from '../lib/data/db';
import { createLogger, type Logger } from '../lib/logger';
import { Registry } from 'prom-client';
import { batchMetricsRegistry } from '../activities/batches';
import { alertMetricsRegistry } from '../activities/alerts';
import { failoverMetricsRegistry, initFailoverSeries } from '../activities/call-provider';
import { exportPoolGauges } from '../lib/pool-metrics';
import { cacheMetricsRegistry, initCacheSeries } from '../lib/data/provider-cache';
import { deliveryMetricsRegistry } from '../activities/deliveries';
import { initProviderRequestSeries, providerMetricsRegistry } from '../providers/core/metrics';
import { serveMetrics, metricsServerUrl } from '../lib/metrics-server';
import { createWorkerMetrics, workerProbes } from './metrics';
import { PinoSdkLogger } from './sdk-logger';
import { createWorkers, type WorkerGroup } from './worker';
import { loadMonitoringConfig } from '../lib/config/monitoring-config';
import { payloadEncryptionState } from '../lib/security/payload-codec';
import { connectClient } from '../lib/temporal/connection';
import { syncSchedules } from './schedules';
import { drainInbox } from './inbox-drainer';

/**
 * WORKFLOW_BUNDLE_PATH's bundle, refused at start when it is not there, and without payload
 * encryption: a prebuilt bundle holds the encrypting workers' failure converter
 * (workers/worker.ts bundleWorkflows), which a worker without keys must not run.
 */
function workflowBundleAt(config: Config): { codePath: string } | undefined {
  const codePath = config.WORKFLOW_BUNDLE_PATH;
  if (codePath === undefined) return undefined;
  if (!existsSync(codePath)) throw new Error(`WORKFLOW_BUNDLE_PATH ${codePath} does not exist (npm run bundle:workflows writes dist/workflow-bundle.js)`);
  if (config.PAYLOAD_ENCRYPTION_KEYS === undefined) {
    throw new Error('WORKFLOW_BUNDLE_PATH needs PAYLOAD_ENCRYPTION_KEYS: a prebuilt bundle carries the encrypting workers\' failure converter; without payload encryption, leave it unset (the worker bundles at start)');
  }
  return { codePath };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const workflowBundle = workflowBundleAt(config);
  const registry = loadRegistry();
  const logger = createLogger('switchyard-worker', config.LOG_LEVEL);
  Runtime.install({
    logger: new PinoSdkLogger(logger),
    // The SDK would shut the workers down on its own; this process does it below, with logs and in order.
    shutdownSignals: [],
    telemetryOptions: config.TEMPORAL_SDK_METRICS_PORT
      ? { metrics: { prometheus: { bindAddress: `${config.METRICS_HOST.includes(':') ? `[${config.METRICS_HOST}]` : config.METRICS_HOST}:${config.TEMPORAL_SDK_METRICS_PORT}` } } }
      : undefined,
  });
  // A signal before the workers exist: nothing is in flight yet, so stop at once.
  let stopping: string | null = null;
  const stopBeforeStart = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'worker stopping before it started');
    process.exit(0);
  };
  process.once('SIGINT', stopBeforeStart).once('SIGTERM', stopBeforeStart);

  const pool = createPool(config.DATABASE_URL, {}, logger);
  const metrics = createWorkerMetrics();
  // Zero series for the registry's providers: error and hit ratios are 0, not nothing, before traffic.
  initProviderRequestSeries(registry);
  initCacheSeries(registry);
  initFailoverSeries(registry);
  exportPoolGauges(metrics.registry, pool);
  // Up before the workers (bundling takes seconds): /healthz answers at once, /readyz and /startupz once they poll.
  const started: { group?: WorkerGroup } = {};
  const metricsServer = await serveMetrics({
    registry: Registry.merge([metrics.registry, providerMetricsRegistry, cacheMetricsRegistry, batchMetricsRegistry, deliveryMetricsRegistry, alertMetricsRegistry, failoverMetricsRegistry]),
    port: config.WORKER_METRICS_PORT,
    host: config.METRICS_HOST,
    probes: workerProbes(() => started.group, pool),
  });
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
    shutdownGraceMs: config.SHUTDOWN_GRACE_MS,
    outboundPolicy: outboundPolicyOf(config),
    payloadKeys: config.PAYLOAD_ENCRYPTION_KEYS,
    maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
    workflowBundle,
  });
  started.group = workers;
  // Committed webhooks become processWebhook runs from here; every replica drains, none twice.
  const drainer = drainInbox({ config, pool, logger, starts: metrics.inboxStarts });
  const drained = { stopping: undefined as Promise<void> | undefined };
  const stopDraining = (): Promise<void> => (drained.stopping ??= drainer.stop().catch((err: unknown) => logger.warn({ err }, 'inbox drainer stopped with an error')));
  process.off('SIGINT', stopBeforeStart).off('SIGTERM', stopBeforeStart);
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // npm start's Ctrl-C reaches the worker twice (terminal and parent): the first one counts.
      logger.info({ signal, first: stopping }, 'worker already shutting down');
      return;
    }
    stopping = signal;
    logger.info(
      { signal, graceMs: config.SHUTDOWN_GRACE_MS },
      'worker shutting down: polling stopped, running activities may finish within the grace time',
    );
    // Claim nothing more; the starts in flight commit, then the workers drain their tasks.
    void stopDraining().then(() => workers.shutdown());
  };
  process.on('SIGINT', stop).on('SIGTERM', stop);
  const running = workers.run(); // settles after a shutdown signal once in-flight tasks are done
  running.catch(() => undefined); // awaited below; a failure during the schedule sync is not unhandled
  if (loadMonitoringConfig().SCHEDULES_AT_WORKER_START === 'true') {
    // Monitoring Schedules follow the registry; a failure here is logged, the worker still runs.
    try {
      const client = await connectClient(config.TEMPORAL_ADDRESS, config.TEMPORAL_NAMESPACE, config.PAYLOAD_ENCRYPTION_KEYS);
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
      providerQueues: Object.values(registry).map(
        (p) => `${config.PROVIDER_TASK_QUEUE_PREFIX}${p.name} (${p.rateLimit.windowSeconds === 1 ? `${p.rateLimitPerSecond}/s` : `${p.rateLimit.requests} per ${p.rateLimit.windowSeconds} s`})`,
      ),
      metrics: `${metricsServerUrl(metricsServer)}/metrics`,
      readiness: `${metricsServerUrl(metricsServer)}/readyz`,
      payloadEncryption: payloadEncryptionState(config.PAYLOAD_ENCRYPTION_KEYS),
    },
    'worker started',
  );
  let exitCode = 0;
  try {
    await running;
    logger.info('workers drained');
  } catch (err) {
    // GracefulShutdownPeriodExpiredError (draining outlived grace + margin) or a worker failure.
    exitCode = 1;
    logger.error({ err, signal: stopping }, 'workers stopped with an error');
  }
  await closeStep(logger, 'inbox drainer stopped', stopDraining);
  await closeStep(logger, 'metrics server closed', () => closeServer(metricsServer));
  await closeStep(logger, 'temporal connection closed', () => connection.close());
  await closeStep(logger, 'postgres pool closed', () => pool.end());
  logger.info({ exitCode }, 'worker stopped');
  process.exit(exitCode);
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeAllConnections(); // a scraper's keep-alive socket must not hold the exit
  });
}

/** One step of the shutdown, logged; a failure is logged and does not stop the next steps. */
async function closeStep(logger: Logger, done: string, step: () => Promise<unknown>): Promise<void> {
  try {
    await step();
    logger.info(done);
  } catch (err) {
    logger.warn({ err }, `${done}: failed`);
  }
}

main().catch((err: unknown) => {
  createLogger('switchyard-worker').fatal({ err }, 'worker failed');
  process.exit(1);
});
