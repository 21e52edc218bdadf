/**
 * The API process: the app on PORT, its Prometheus metrics on API_METRICS_PORT (bound to
 * METRICS_HOST). Starts even when Temporal or PostgreSQL is down (a lazy Temporal connection;
 * /readyz says 503 until both answer) and shuts down gracefully on SIGTERM/SIGINT:
 * 1. stop accepting connections and close idle keep-alive sockets; a request arriving on a
 *    kept-alive socket meanwhile is still served, with `Connection: close`;
 * 2. end the live SSE streams at once (they would never finish on their own; clients reconnect
 *    to another replica after the stream's `retry`);
 * 3. let in-flight requests finish within SHUTDOWN_GRACE_MS; past it, cut them off;
 * 4. close the Temporal connection, then the PostgreSQL pool; exit 0, or 1 when requests were cut
 *    off. Each step is logged.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Connection } from '@temporalio/client';
import { loadConfig } from '../lib/config/config';
import { loadRegistry } from '../lib/config/registry';
import { createWebhookSecrets } from './webhook-secrets';
import { loadWebhookSources } from './webhook-sources';
import { createPool } from '../lib/data/db';
import { createLogger } from '../lib/logger';
import { sealPlaintextSubscriberSecrets } from '../lib/security/stored-secrets';
import { payloadDataConverter, payloadEncryptionState } from '../lib/security/payload-codec';
import { createApp } from './app';
import { createApiMetrics } from './metrics';
import { serveDevCodec } from './dev-codec';
import { metricsServerUrl, serveMetrics } from '../lib/metrics-server';
import { WorkflowStarter } from '../lib/temporal/workflow-starter';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('switchyard-api', config.LOG_LEVEL);
  const pool = createPool(config.DATABASE_URL, {}, logger);
  const connection = Connection.lazy({ address: config.TEMPORAL_ADDRESS });
  const workflows = new WorkflowStarter({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter: payloadDataConverter(config.PAYLOAD_ENCRYPTION_KEYS) });
  const registry = loadRegistry();
  const webhookSources = loadWebhookSources();
  const webhookSecrets = createWebhookSecrets({
    file: config.WEBHOOK_SECRETS_FILE,
    env: process.env,
    defaultTenant: config.DEFAULT_TENANT,
    // A bad secrets file keeps the last good secrets; the message never contains a secret.
    onError: (err) => logger.error({ err: err.message }, 'webhook secrets file rejected'),
  });
  const metrics = createApiMetrics();
  const app = createApp({ config, workflows, pool, registry, webhookSources, webhookSecrets, metrics, logger });
  // Metrics name tenants and providers: on their own port, bound to METRICS_HOST (this host by default).
  const metricsServer = await serveMetrics({ registry: metrics.registry, port: config.API_METRICS_PORT, host: config.METRICS_HOST });
  // Development only (npm start): the codec for the dev server's Web UI, on 127.0.0.1, no credential.
  const devCodec = config.CODEC_DEV_PORT === undefined ? undefined : await serveDevCodec({ config, pool }, config.CODEC_DEV_PORT);
  if (devCodec) logger.warn({ codec: `http://127.0.0.1:${(devCodec.address() as AddressInfo).port}/codec` }, 'development codec without credentials on 127.0.0.1 (CODEC_DEV_PORT): never in production');

  // Every response in flight, to drain them, end the streams among them and count what is cut off.
  const inFlight = new Set<ServerResponse>();
  let stopping = false;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    inFlight.add(res);
    res.once('close', () => {
      inFlight.delete(res);
      // Its socket may now be an idle keep-alive one (e.g. after a stream): close it too.
      if (stopping) setImmediate(() => server.closeIdleConnections());
    });
    if (stopping) res.setHeader('connection', 'close');
    app(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  logger.info(
    { url: `http://127.0.0.1:${port}`, metrics: `${metricsServerUrl(metricsServer)}/metrics`, temporal: config.TEMPORAL_ADDRESS, payloadEncryption: payloadEncryptionState(config.PAYLOAD_ENCRYPTION_KEYS) },
    'api listening',
  );

  // Subscriber signing secrets still in plaintext (from before migration 010, or written by an older
  // API during a rolling upgrade) are encrypted in the background; safe beside other replicas.
  if (config.SECRETS_MASTER_KEYS) {
    sealPlaintextSubscriberSecrets(pool, config.SECRETS_MASTER_KEYS).then(
      ({ sealed }) => sealed > 0 && logger.info({ sealed }, 'encrypted subscriber signing secrets stored in plaintext'),
      (err: unknown) => logger.error({ err: err instanceof Error ? err.message : String(err) }, 'plaintext subscriber signing secrets not encrypted (retried at the next start)'),
    );
  }

  const isEventStream = (res: ServerResponse): boolean => /^text\/event-stream/i.test(String(res.getHeader('content-type') ?? ''));
  /** Ends open SSE streams; a stream that was still subscribing ends at the next sweep. */
  const endStreams = (): number => {
    let ended = 0;
    for (const res of inFlight) {
      if (res.headersSent && !res.writableEnded && isEventStream(res)) {
        res.end();
        ended++;
      }
    }
    return ended;
  };

  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // npm start's Ctrl-C reaches the API twice (terminal and parent): the first one counts.
      logger.info({ signal }, 'api already shutting down');
      return;
    }
    stopping = true;
    const startedAt = Date.now();
    logger.info({ signal, inFlight: inFlight.size, graceMs: config.SHUTDOWN_GRACE_MS }, 'api shutting down: no new connections');
    for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
    const streams = endStreams();
    if (streams > 0) logger.info({ streams }, 'event streams ended');
    const sweep = setInterval(endStreams, 250);

    let cutOff = 0;
    const grace = setTimeout(() => {
      cutOff = inFlight.size;
      logger.error({ cutOff, graceMs: config.SHUTDOWN_GRACE_MS }, 'grace time over: cutting off requests still in flight');
      server.closeAllConnections();
    }, config.SHUTDOWN_GRACE_MS);

    metricsServer.close();
    metricsServer.closeAllConnections(); // a scraper's keep-alive socket must not hold the exit
    devCodec?.close();
    devCodec?.closeAllConnections();
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(grace);
      logger.info({ durationMs: Date.now() - startedAt }, 'http server closed: every request finished or cut off');
      void closeClients().then((failed) => {
        const exitCode = cutOff > 0 || failed ? 1 : 0;
        logger.info({ exitCode, cutOff, durationMs: Date.now() - startedAt }, 'api stopped');
        process.exit(exitCode);
      });
    });
    server.closeIdleConnections();
  };

  /** Temporal connection, then the pool (a request's last query may still be returning its client); true if one failed. */
  const closeClients = async (): Promise<boolean> => {
    let failed = false;
    for (const [what, close] of [
      ['temporal connection', () => connection.close()],
      ['postgres pool', () => pool.end()],
    ] as const) {
      try {
        await withTimeout(close(), CLOSE_TIMEOUT_MS, `${what} did not close within ${CLOSE_TIMEOUT_MS} ms`);
        logger.info(`${what} closed`);
      } catch (err) {
        failed = true;
        logger.error({ err }, `${what} not closed cleanly`);
      }
    }
    return failed;
  };

  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

/** How long closing the Temporal connection or the pool may take once the server has closed. */
const CLOSE_TIMEOUT_MS = 5_000;

function withTimeout(promise: Promise<unknown>, ms: number, message: string): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

main().catch((err: unknown) => {
  createLogger('switchyard-api').fatal({ err }, 'api failed to start');
  process.exit(1);
});
