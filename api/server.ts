/**
 * The API process. Starts even when Temporal or PostgreSQL is down (a lazy Temporal connection;
 * /readyz says 503 until both answer) and shuts down gracefully: stop accepting, finish in-flight
 * requests, then close the pool and the connection.
 */
import type { Server } from 'node:http';
import { Connection } from '@temporalio/client';
import { loadConfig } from '../lib/config';
import { loadRegistry } from '../lib/registry';
import { createWebhookSecrets } from './webhook-secrets';
import { loadWebhookSources } from './webhook-sources';
import { createPool } from '../lib/db';
import { createLogger } from '../lib/logger';
import { createApp } from './app';
import { createApiMetrics } from './metrics';
import { WorkflowStarter } from './workflow-starter';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('switchyard-api', config.LOG_LEVEL);
  const pool = createPool(config.DATABASE_URL, {}, logger);
  const connection = Connection.lazy({ address: config.TEMPORAL_ADDRESS });
  const workflows = new WorkflowStarter({ connection, namespace: config.TEMPORAL_NAMESPACE });
  const registry = loadRegistry();
  const webhookSources = loadWebhookSources();
  const webhookSecrets = createWebhookSecrets({
    file: config.WEBHOOK_SECRETS_FILE,
    env: process.env,
    defaultTenant: config.DEFAULT_TENANT,
    // A bad secrets file keeps the last good secrets; the message never contains a secret.
    onError: (err) => logger.error({ err: err.message }, 'webhook secrets file rejected'),
  });
  const app = createApp({ config, workflows, pool, registry, webhookSources, webhookSecrets, metrics: createApiMetrics(), logger });

  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(config.PORT, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  logger.info({ url: `http://127.0.0.1:${config.PORT}`, temporal: config.TEMPORAL_ADDRESS }, 'api listening');

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'api shutting down');
    server.close(() => {
      void Promise.allSettled([pool.end(), connection.close()]).then(() => {
        logger.info('api stopped');
        process.exit(0);
      });
    });
    server.closeIdleConnections();
    // Requests still running after 10 s are cut off rather than holding the shutdown forever.
    setTimeout(() => {
      server.closeAllConnections();
    }, 10_000).unref();
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  createLogger('switchyard-api').fatal({ err }, 'api failed to start');
  process.exit(1);
});
