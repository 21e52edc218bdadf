/**
 * The Express app factory: everything the API does, testable without listening on a port.
 */
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import type { Pool } from 'pg';
import type { Config } from '../lib/config';
import type { Logger } from '../lib/logger';
import type { ProviderRegistry } from '../lib/registry';
import type { WebhookSecrets } from './webhook-secrets';
import type { WebhookSources } from './webhook-sources';
import { sendError } from './errors';
import type { ApiMetrics } from './metrics';
import { healthRoutes } from './routes/health';
import { monitoringRoutes } from './routes/monitoring'; // monitoring (issue 6)
import { streamRoutes } from './routes/stream'; // monitoring (issue 6)
import { batchRoutes } from './routes/batches';
import { callRoutes } from './routes/calls';
import { providerRoutes } from './routes/providers';
import { subscriberRoutes } from './routes/subscribers';
import { webhookEventRoutes } from './routes/webhook-events';
import { webhookRoutes } from './routes/webhooks';
import type { WorkflowStarter } from './workflow-starter';

export interface AppDeps {
  config: Config;
  workflows: WorkflowStarter;
  pool: Pool;
  registry: ProviderRegistry;
  webhookSources: WebhookSources;
  webhookSecrets: WebhookSecrets;
  metrics: ApiMetrics;
  logger: Logger;
}

/** Records the duration histogram and one JSON log line per request; never headers or bodies. */
function requestObserver({ metrics, logger }: Pick<AppDeps, 'metrics' | 'logger'>): RequestHandler {
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      // Express types req.route as any; only its path template is read.
      const routePath = (req.route as { path?: unknown } | undefined)?.path;
      const route = typeof routePath === 'string' ? `${req.baseUrl}${routePath}` : 'unmatched';
      metrics.httpDuration.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
      if (route === '/metrics' || route === '/healthz') return;
      logger.info(
        {
          method: req.method,
          route,
          status: res.statusCode,
          durationMs: Math.round(seconds * 1e4) / 10,
          workflowId: res.locals.workflowId,
          runId: res.locals.runId,
        },
        'request',
      );
    });
    next();
  };
}

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(requestObserver(deps));
  app.use(healthRoutes(deps));
  const webhooks = webhookRoutes(deps);
  app.use(webhooks);
  app.use('/tenants/:tenant', webhooks);
  for (const tenantScoped of [batchRoutes(deps), callRoutes(deps), providerRoutes(deps), subscriberRoutes(deps), webhookEventRoutes(deps)]) {
    app.use(tenantScoped);
    app.use('/tenants/:tenant', tenantScoped);
  }
  // Monitoring (issue 6): health, SLA, alerts (system-wide) and the tenant-scoped live stream.
  app.use(monitoringRoutes(deps));
  const stream = streamRoutes(deps);
  app.use(stream);
  app.use('/tenants/:tenant', stream);
  app.use((_req, res) => sendError(res, 404, 'not_found', 'no such route'));
  const lastResort: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
    deps.logger.error({ err }, 'unhandled error');
    if (!res.headersSent) sendError(res, 500, 'internal_error', 'unexpected error');
  };
  app.use(lastResort);
  return app;
}
