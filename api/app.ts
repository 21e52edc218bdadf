/**
 * The Express app factory: everything the API does, testable without listening on a port.
 */
import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import cors from 'cors';
import express, { Router, type ErrorRequestHandler, type RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import type { Pool } from 'pg';
import type { Config } from '../lib/config/config';
import { projectRoot } from '../lib/config/paths';
import type { Logger } from '../lib/logger';
import type { ProviderRegistry } from '../lib/config/registry';
import type { WebhookSecrets } from './webhook-secrets';
import { createStoredWebhookSecrets, type StoredWebhookSecrets } from './stored-webhook-secrets';
import type { WebhookSources } from './webhook-sources';
import { throttleNotices, type ThrottleNotices } from './throttle-notices';
import { watchSignatureFailures, type SignatureFailureWatch } from '../lib/temporal/webhook-signature-alerts';
import { authorize, serviceRoutes } from './access';
import { auditTrail } from './audit-middleware';
import { authenticate, principalOf } from './auth';
import { pathTenant } from './tenant';
import { sendError } from './errors';
import { openApiDocument } from './openapi';
import { queryPolicy, wellFormedUrl } from './route-input';
import { exportInboxBacklog, statusClass, type ApiMetrics } from './metrics';
import { inboxBacklog } from '../lib/data/webhook-inbox';
import { exportPoolGauges } from '../lib/pool-metrics';
import { healthRoutes } from './routes/health';
import { codecCors } from './routes/codec';
import { serviceRouteGroups } from './routes';
import { routerOf } from './service-router';
import { webhookIntake, type RequestRecorder } from './webhook-intake';
import { clientAddress, clientProtocol, type TrustProxy } from './forwarded';
import type { WorkflowStarter } from '../lib/temporal/workflow-starter';

export interface AppDeps {
  config: Config;
  workflows: WorkflowStarter;
  pool: Pool;
  registry: ProviderRegistry;
  webhookSources: WebhookSources;
  webhookSecrets: WebhookSecrets;
  /** Webhook secrets stored in PostgreSQL; default: read with the pool and SECRETS_MASTER_KEYS. */
  storedWebhookSecrets?: StoredWebhookSecrets;
  /** 429s on the live stream's `rate_limit` topic; default: published with the pool. */
  throttles?: ThrottleNotices;
  /** Signature failures per tenant and source, raising the alert; default: with the pool, the workflows and the config. */
  signatureWatch?: SignatureFailureWatch;
  metrics: ApiMetrics;
  logger: Logger;
}

/** Methods kept as a metric label; any other (Node accepts WebDAV's and more) counts as `other`. */
const methodLabels = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * Mounts `router` at a parameterised path, remembering the path's template for this request, so
 * that the metric label is `/tenants/:tenant/…`, never the tenant the caller typed (req.baseUrl).
 */
function atTemplate(template: string, router: RequestHandler): [string, RequestHandler, RequestHandler] {
  const mark: RequestHandler = (req, res, next) => {
    const templates = (res.locals.mountTemplates ??= new Map<string, string>()) as Map<string, string>;
    templates.set(req.baseUrl, template);
    next();
  };
  return [template, mark, router];
}

/** The template of the route that answered (`/tenants/:tenant/webhooks/:source`), or `unmatched`: a bounded set. */
function routeLabel(req: express.Request, res: express.Response): string {
  // Express types req.route as any; only its path template is read.
  const routePath = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof routePath !== 'string') return 'unmatched';
  if (req.baseUrl === '') return routePath;
  // A mount not made with atTemplate: its template is unknown, and the path the caller sent is no label.
  return `${(res.locals.mountTemplates as Map<string, string> | undefined)?.get(req.baseUrl) ?? '/:mount'}${routePath}`;
}

/** Records the duration histogram and one JSON log line per request; never headers or bodies. */
function requestRecorder({ metrics, logger }: Pick<AppDeps, 'metrics' | 'logger'>): RequestRecorder {
  return (req, res, route, startedAt, facts) => {
    const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
    const method = methodLabels.has(req.method ?? '') ? req.method! : 'other';
    metrics.httpDuration.observe({ method, route, status: String(res.statusCode) }, seconds);
    metrics.httpRequests.inc({ method, route, status: statusClass(res.statusCode) });
    if (route === '/healthz') return;
    logger.info(
      {
        method: req.method,
        route,
        status: res.statusCode,
        durationMs: Math.round(seconds * 1e4) / 10,
        workflowId: facts?.workflowId,
        runId: facts?.runId,
        caller: facts?.caller,
      },
      'request',
    );
  };
}

/** The recorder on every request the app routes, once it is answered, with its route template. */
function requestObserver(record: RequestRecorder): RequestHandler {
  return (req, res, next) => {
    const startedAt = process.hrtime.bigint();
    res.on('finish', () => {
      const principal = principalOf(res);
      record(req, res, routeLabel(req, res), startedAt, {
        workflowId: res.locals.workflowId as string | undefined,
        runId: res.locals.runId as string | undefined,
        // The key id or token subject and tenant; never the credential itself.
        caller: principal && { id: principal.id, tenant: principal.tenant, role: principal.role },
      });
    });
    next();
  };
}

/** 429 with Retry-After after `limit` requests a minute per key; 0 turns it off. */
function perMinute(
  limit: number,
  keyOf: (req: express.Request, res: express.Response) => string,
  what: string,
  onThrottle: (res: express.Response) => void = () => undefined,
): RequestHandler {
  if (limit === 0) return (_req, _res, next) => next();
  return rateLimit({
    windowMs: 60_000,
    limit,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: keyOf,
    handler: (_req, res, _next, options) => {
      // express-rate-limit has set Retry-After (seconds until the window resets) before calling this.
      sendError(res, options.statusCode, 'rate_limited', `more than ${limit} requests a minute ${what}; retry after the Retry-After seconds`);
      onThrottle(res);
    },
  });
}

/**
 * The service API (everything but webhooks, health and metrics): CORS when configured, a per-address
 * limit, authentication, a per-credential limit, the audit trail (api/audit-middleware.ts), then authorization
 * against api/access.ts and the query policy, then the declared routes (api/route.ts), one router
 * per group of api/routes/index.ts. Each router is mounted at `/` and at `/tenants/:tenant`, whose tenant
 * pathTenant (api/tenant.ts) checks once for every route: 400 if invalid, 404 if not the caller's.
 */
function serviceApi(deps: AppDeps): Router {
  const { config } = deps;
  const service = Router();
  if (config.CORS_ORIGINS.length > 0) service.use(cors({ origin: config.CORS_ORIGINS, maxAge: 600 }));
  service.use(perMinute(config.RATE_LIMIT_PER_IP_PER_MINUTE, (req) => `ip:${ipKeyGenerator(req.ip ?? req.socket.remoteAddress ?? 'unknown')}`, 'from this address'));
  service.use(authenticate(deps));
  service.use(
    perMinute(config.RATE_LIMIT_PER_KEY_PER_MINUTE, (_req, res) => `${principalOf(res)!.kind}:${principalOf(res)!.id}`, 'for this credential', (res) => {
      const principal = principalOf(res)!;
      deps.throttles!.throttled({
        kind: 'api_credential',
        tenant: principal.tenant,
        subject: `${principal.kind}:${principal.id}`,
        limitPerMinute: config.RATE_LIMIT_PER_KEY_PER_MINUTE,
        retryAfterSeconds: Number(res.getHeader('retry-after')) || undefined,
        reason: `more than ${config.RATE_LIMIT_PER_KEY_PER_MINUTE} service-API requests a minute for this credential`,
      });
    }),
  );
  service.use(auditTrail(deps));
  service.use('/tenants/:tenant', pathTenant());
  service.use(authorize());
  service.use(queryPolicy());
  // Every declared route (api/routes/index.ts), checked complete before anything is mounted.
  serviceRoutes();
  for (const group of serviceRouteGroups()) {
    const router = routerOf(group, deps);
    service.use(router);
    service.use(...atTemplate('/tenants/:tenant', router));
  }
  return service;
}

/** Where `scripts/setup.sh` builds the console (console/, Vite). */
export const consoleDir = path.join(projectRoot, 'dist', 'console');

/**
 * The operator console's static files at `/console` (public: every piece of data comes from the
 * service API with the signed-in credential). Unknown paths get index.html (the console routes
 * by hash); without a build, 503 says how to make one. Middleware, not routes: nothing here is
 * part of the API document.
 */
function consoleFiles(): RequestHandler {
  const files = express.static(consoleDir, {
    index: 'index.html',
    // Built assets have content hashes in their names; index.html must always be fresh.
    setHeaders: (res, file) => void res.set('cache-control', file.endsWith('.html') ? 'no-cache' : 'public, max-age=31536000, immutable'),
  });
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const index = path.join(consoleDir, 'index.html');
    if (!existsSync(index)) {
      return sendError(res, 503, 'console_not_built', 'the console is not built: run `npm run setup` (it builds console/ into dist/console)');
    }
    files(req, res, () => {
      res.set('cache-control', 'no-cache');
      res.sendFile(index);
    });
  };
}

/**
 * The headers a helmet middleware sets, read once: with helmet's defaults none depends on the
 * request, so the webhook intake sets them without running helmet's chain for every answer
 * (test/integration/webhook-intake.test.ts compares them with the app's).
 */
function headersSetBy(middleware: ReturnType<typeof helmet>): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const res = {
    setHeader: (name: string, value: unknown) => void (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
  };
  middleware({ headers: {} } as IncomingMessage, res as unknown as ServerResponse, () => undefined);
  return headers;
}

/**
 * Offers every request to `first` before Express handles it: the function express() returns
 * calls its `app.handle` for each request (express/lib/express.js), and this `handle` runs
 * `first`, passing on to Express's own what `first` does not take. Express's request set-up and
 * router then cost nothing on the webhook path.
 */
function ahead(app: express.Express, first: (req: IncomingMessage, res: ServerResponse) => boolean): void {
  type Handle = (req: IncomingMessage, res: ServerResponse, next?: unknown) => void;
  const handled = app as unknown as { handle: Handle };
  const expressHandle = handled.handle.bind(app);
  handled.handle = (req, res, next) => {
    if (!first(req, res)) expressHandle(req, res, next);
  };
}

export function createApp(appDeps: AppDeps): express.Express {
  const deps: AppDeps = {
    ...appDeps,
    storedWebhookSecrets:
      appDeps.storedWebhookSecrets ?? createStoredWebhookSecrets({ pool: appDeps.pool, keyring: appDeps.config.SECRETS_MASTER_KEYS, logger: appDeps.logger }),
    throttles: appDeps.throttles ?? throttleNotices(appDeps),
    signatureWatch:
      appDeps.signatureWatch ??
      watchSignatureFailures({
        pool: appDeps.pool,
        workflows: appDeps.workflows,
        taskQueue: appDeps.config.TEMPORAL_TASK_QUEUE,
        threshold: appDeps.config.WEBHOOK_SIGNATURE_ALERT_THRESHOLD,
        windowMs: appDeps.config.WEBHOOK_SIGNATURE_ALERT_WINDOW_SECONDS * 1000,
        warn: (message, fields) => appDeps.logger.warn(fields, message),
      }),
  };
  exportPoolGauges(deps.metrics.registry, deps.pool);
  exportInboxBacklog(
    deps.metrics,
    () => inboxBacklog(deps.pool),
    (err) => deps.logger.debug({ err }, 'webhook inbox backlog not read: the gauges keep their last values'),
  );
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  const securityHeaders = helmet();
  const record = requestRecorder(deps);
  // Provider webhooks are public: each is verified by its signature, not by a caller credential.
  // Their intake runs ahead of Express, on node:http's request and response (api/webhook-intake.ts),
  // reading `trust proxy` as it is at each request (it can be changed at run time).
  const trusted = (): TrustProxy => app.get('trust proxy fn') as TrustProxy;
  const intake = webhookIntake({
    ...deps,
    securityHeaders: headersSetBy(securityHeaders),
    record,
    addressOf: (req) => clientAddress(req, trusted()),
    protocolOf: (req) => clientProtocol(req, trusted()),
  });
  ahead(app, (req, res) => intake.handle(req, res));
  app.use(securityHeaders);
  app.use(requestObserver(record));
  app.use(wellFormedUrl());
  app.use(healthRoutes(deps));
  app.get('/openapi.json', (_req, res) => void res.json(openApiDocument()));
  app.use('/console', consoleFiles());
  app.use('/tenants/:tenant', pathTenant());
  // The Temporal Web UI's codec calls: its browser preflight is answered before authentication.
  app.use('/codec', codecCors(deps.config));
  app.use(serviceApi(deps));
  app.use((_req, res) => sendError(res, 404, 'not_found', 'no such route'));
  const lastResort: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
    // Errors Express and body-parser raise for bad input (malformed JSON or percent-encoding, an
    // oversized or unsupported body) carry their 4xx: the caller's mistake, answered as such.
    const status = (err as { status?: unknown } | null)?.status;
    if (typeof status === 'number' && status >= 400 && status < 500 && !res.headersSent) {
      const message = err instanceof Error ? err.message : 'bad request';
      return sendError(res, status, status === 413 ? 'body_too_large' : 'invalid_request', message);
    }
    deps.logger.error({ err }, 'unhandled error');
    if (!res.headersSent) sendError(res, 500, 'internal_error', 'unexpected error');
  };
  app.use(lastResort);
  return app;
}
