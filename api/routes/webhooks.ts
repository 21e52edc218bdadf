/**
 * Provider webhooks, every scheme through one path: keep the raw body, check the content type,
 * verify the signature with the source's live secrets (rotation), extract the provider's events,
 * then commit one ledger row per event to the inbox (lib/data/webhook-inbox.ts) and answer. The
 * drainer in every worker (workers/inbox-drainer.ts) starts `processWebhook` for each committed
 * row; the answer never waits for Temporal, so a Temporal outage does not refuse webhooks.
 *   202 accepted (the workflow id; the run id once started) · 200 duplicate (the ledger had the
 *   event) · 400 malformed · 401 bad signature · 403 address not in the source's allowlist ·
 *   404 unknown source · 413 too large · 415 wrong content type · 429 over the source's limit for
 *   the tenant (Retry-After) · 503 + Retry-After when PostgreSQL cannot commit the row or no
 *   secret is configured.
 * Never a 2xx without a committed row; nothing refused writes a ledger row.
 * The address and the limit are checked before the body is read; signature failures are watched
 * per tenant and source and raise an alert past a threshold (lib/temporal/webhook-signature-alerts.ts).
 */
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response, Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Config } from '../../lib/config/config';
import type { Logger } from '../../lib/logger';
import { webhookWorkflowId } from '../../contracts/webhook';
import { sendError } from '../errors';
import { webhookOutcomes, type ApiMetrics, type WebhookOutcome } from '../metrics';
import { requireTenant } from '../tenant';
import { schemes } from '../webhook-schemes';
import type { StoredWebhookSecrets } from '../stored-webhook-secrets';
import type { WebhookSecrets } from '../webhook-secrets';
import type { WebhookSource, WebhookSources } from '../webhook-sources';
import { InboxWriter, type InboxAnswer } from '../../lib/data/webhook-inbox';
import type { ThrottleNotices } from '../throttle-notices';
import type { SignatureFailureWatch } from '../../lib/temporal/webhook-signature-alerts';
import type { Pool } from 'pg';

export interface WebhookRouteDeps {
  config: Config;
  /** Where the inbox rows are committed. */
  pool: Pool;
  metrics: ApiMetrics;
  logger: Logger;
  webhookSources: WebhookSources;
  webhookSecrets: WebhookSecrets;
  /** Secrets stored in PostgreSQL (admin API /webhook-secrets), in addition to the file and environment ones. */
  storedWebhookSecrets?: StoredWebhookSecrets;
  /** Where a 429 is noticed on the live stream; none: not noticed. */
  throttles?: ThrottleNotices;
  /** Counts signature failures per tenant and source, raising the alert; none: not watched. */
  signatureWatch?: SignatureFailureWatch;
}

/** How a route's `:source` becomes a source name: as is, `generic:<name>`, or `google-<api>`. */
type SourcePrefix = '' | 'generic:' | 'google-';

export function webhookRoutes(deps: WebhookRouteDeps): Router {
  const { config, pool, metrics, logger, webhookSources, webhookSecrets, storedWebhookSecrets, throttles, signatureWatch } = deps;
  const router = Router({ mergeParams: true });
  // Concurrent webhooks share a commit (group commit); each is answered once its row is durable.
  const inbox = new InboxWriter(pool, config.TEMPORAL_TASK_QUEUE);
  const count = (provider: string, outcome: WebhookOutcome, n = 1): void => {
    metrics.webhooksReceived.inc({ provider, outcome }, n);
  };
  // Zeros for every configured source's provider: rates and refusal ratios exist before the first webhook.
  for (const provider of new Set([...[...webhookSources.values()].map((s) => s.provider), 'unknown'])) {
    for (const outcome of webhookOutcomes) count(provider, outcome, 0);
  }

  /** The source a path names, or a 404 answered. */
  function sourceFor(req: Request<{ source: string }>, res: Response, prefix: SourcePrefix): WebhookSource | undefined {
    const generic = prefix === 'generic:';
    const name = `${prefix}${req.params.source}`;
    const source = webhookSources.get(name);
    if (!source || (!generic && name.startsWith('generic:'))) {
      count('unknown', 'unknown_source');
      sendError(res, 404, 'unknown_source', `no webhook source "${name}" is configured`);
      return undefined;
    }
    return source;
  }

  /**
   * 403 for an address outside the source's allowlist. The address is Express's req.ip, so it
   * follows the app's `trust proxy` setting: an X-Forwarded-For counts only from a trusted proxy.
   */
  function addressAllowed(req: Request, res: Response, source: WebhookSource): boolean {
    if (!source.allowIps || source.allowIps.allows(req.ip)) return true;
    count(source.provider, 'forbidden_address');
    sendError(res, 403, 'forbidden_address', `${source.name} webhooks are received only from the source's allowed addresses (allowIps); this request came from ${req.ip ?? 'an unknown address'}`);
    return false;
  }

  /** The tenant a request belongs to, as the handler reads it (the path's was checked by pathTenant). */
  const tenantOf = (req: Request, source: WebhookSource): string => (req.params as { tenant?: string }).tenant ?? source.tenant ?? config.DEFAULT_TENANT;
  const limitOf = (source: WebhookSource): number => source.rateLimitPerMinute ?? config.WEBHOOK_RATE_LIMIT_PER_MINUTE;

  /** 429 + Retry-After past the source's requests a minute for the tenant: the provider retries later. */
  const withinLimit: RequestHandler = rateLimit({
    windowMs: 60_000,
    limit: (_req, res) => limitOf(res.locals.source as WebhookSource),
    skip: (_req, res) => limitOf(res.locals.source as WebhookSource) === 0,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    // Keyed by tenant and source, never the address: X-Forwarded-For plays no part here.
    validate: { xForwardedForHeader: false },
    keyGenerator: (req, res) => `${tenantOf(req, res.locals.source as WebhookSource)}\n${(res.locals.source as WebhookSource).name}`,
    handler: (req, res) => {
      const source = res.locals.source as WebhookSource;
      const tenant = tenantOf(req, source);
      const limit = limitOf(source);
      count(source.provider, 'rate_limited');
      // express-rate-limit has set Retry-After (seconds until the window resets) before calling this.
      sendError(res, 429, 'rate_limited', `more than ${limit} ${source.name} webhooks a minute for tenant ${tenant}; retry after the Retry-After seconds`);
      throttles?.throttled({
        kind: 'webhook_source',
        tenant,
        subject: source.name,
        limitPerMinute: limit,
        retryAfterSeconds: Number(res.getHeader('retry-after')) || undefined,
        reason: `more than ${limit} ${source.name} webhooks a minute`,
      });
    },
  });

  /** 415 before the body is even read: the provider sends one content type per scheme. */
  function contentTypeAllowed(req: Request, res: Response, source: WebhookSource): boolean {
    const scheme = schemes[source.scheme];
    if (scheme.contentTypes.length === 0) return true;
    const type = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (scheme.contentTypes.includes(type)) return true;
    count(source.provider, 'unsupported_media_type');
    sendError(res, 415, 'unsupported_media_type', `${source.name} webhooks are ${scheme.contentTypes.join(' or ')}, not "${type || 'none'}"`);
    return false;
  }

  function receive(prefix: SourcePrefix) {
    const raw = express.raw({ type: () => true, limit: config.WEBHOOK_BODY_LIMIT_BYTES });
    return [
      (req: Request<{ source: string }>, res: Response, next: () => void) => {
        const source = sourceFor(req, res, prefix);
        if (!source || !addressAllowed(req, res, source)) return;
        res.locals.source = source;
        next();
      },
      withinLimit,
      (req: Request<{ source: string }>, res: Response, next: () => void) => {
        if (contentTypeAllowed(req, res, res.locals.source as WebhookSource)) next();
      },
      raw,
      async (req: Request<{ source: string }>, res: Response) => {
        const source = res.locals.source as WebhookSource;
        // Without /tenants/:tenant the source's own tenant, if configured, is the default.
        const tenant = requireTenant(req, res, { DEFAULT_TENANT: source.tenant ?? config.DEFAULT_TENANT });
        if (!tenant) return;
        const scheme = schemes[source.scheme];
        const now = new Date();
        const inbound = {
          rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
          headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(', ') : v])),
          url: `${config.PUBLIC_BASE_URL ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`}${req.originalUrl}`,
          nowSeconds: Math.floor(now.getTime() / 1000),
        };
        const stored = storedWebhookSecrets ? await storedWebhookSecrets.secretsFor(tenant, source.name, now) : { secrets: [], complete: true };
        const secrets = [...new Set([...stored.secrets, ...webhookSecrets.secretsFor(tenant, source.name, now)])];
        if (secrets.length === 0 && stored.complete) {
          count(source.provider, 'not_configured');
          // 503, not 4xx: the provider keeps the event and retries once a secret is configured.
          res.setHeader('Retry-After', '60');
          return sendError(res, 503, 'not_configured', `no signing secret is configured for ${source.name} (tenant ${tenant})`);
        }
        const verified = scheme.verify(inbound, secrets, source.options);
        if (!verified.ok && !stored.complete) {
          // A stored secret could not be read: the event may be signed with it, so the provider must retry.
          count(source.provider, 'secrets_unavailable');
          res.setHeader('Retry-After', '60');
          return sendError(res, 503, 'secrets_unavailable', `the stored signing secrets of ${source.name} (tenant ${tenant}) cannot be read right now`);
        }
        const watched = { tenant, source: source.name, provider: source.provider };
        if (!verified.ok) {
          count(source.provider, 'invalid_signature');
          signatureWatch?.failed(watched);
          return sendError(res, 401, 'invalid_signature', verified.reason);
        }
        signatureWatch?.verified(watched);
        const extracted = scheme.extract(inbound, source.options);
        if (!extracted.ok) {
          count(source.provider, 'malformed');
          return sendError(res, 400, 'invalid_event', extracted.reason, extracted.fields);
        }

        let accepted: InboxAnswer[];
        try {
          accepted = await inbox.accept(
            extracted.events.map((event) => ({
              tenant,
              provider: source.provider,
              eventId: event.eventId,
              eventType: event.eventType,
              receivedAt: now.toISOString(),
              payload: event.payload,
              workflowId: webhookWorkflowId(tenant, source.provider, event.eventId),
            })),
          );
        } catch (err) {
          // Nothing was committed (one statement): the provider keeps the event and retries.
          count(source.provider, 'unavailable');
          logger.error({ err, tenant, source: source.name }, 'webhook not accepted: the inbox could not be written');
          res.setHeader('Retry-After', '5');
          return sendError(res, 503, 'inbox_unavailable', 'the event could not be durably recorded right now; retry later');
        }
        const fresh = accepted.filter((a) => !a.duplicate).length;
        count(source.provider, 'accepted', fresh);
        count(source.provider, 'duplicate', accepted.length - fresh);
        res.locals.workflowId = accepted[0]?.workflowId;
        res.locals.runId = accepted[0]?.runId ?? undefined;
        const status = fresh > 0 ? 202 : 200;
        const shown = accepted.map((a) => ({
          eventId: a.eventId,
          workflowId: a.workflowId,
          ...(a.runId ? { runId: a.runId } : {}),
          ...(a.duplicate ? { duplicate: true } : {}),
        }));
        if (shown.length === 1) {
          const { eventId: _eventId, ...only } = shown[0]!;
          res.status(status).json(only);
        } else {
          res.status(status).json({ events: shown });
        }
      },
    ] as const;
  }

  router.post('/webhooks/generic/:source', ...receive('generic:'));
  // Google push channels by API: /webhooks/google/sheets is the `google-sheets` source.
  router.post('/webhooks/google/:source', ...receive('google-'));
  router.post('/webhooks/:source', ...receive(''));

  /** Body parser failures on these routes: size limit and unreadable bodies, counted per provider. */
  const bodyErrors: ErrorRequestHandler = (err: { type?: string; status?: number }, _req, res, next) => {
    const provider = (res.locals.source as WebhookSource | undefined)?.provider ?? 'unknown';
    if (err.type === 'entity.too.large') {
      count(provider, 'too_large');
      sendError(res, 413, 'body_too_large', `body exceeds ${config.WEBHOOK_BODY_LIMIT_BYTES} bytes`);
      return;
    }
    if (err.status !== undefined && err.status >= 400 && err.status < 500) {
      count(provider, 'malformed');
      sendError(res, err.status, 'unreadable_body', String((err as Error).message));
      return;
    }
    next(err);
  };
  router.use(bodyErrors);
  return router;
}
