/**
 * Provider webhooks, every scheme through one path: check the content type, read the raw body,
 * verify the signature with the source's live secrets (rotation), extract the provider's events,
 * then commit one ledger row per event to the inbox (lib/data/webhook-inbox.ts) and answer. The
 * drainer in every worker (workers/inbox-drainer.ts) starts `processWebhook` for each committed
 * row; the answer never waits for Temporal, so a Temporal outage does not refuse webhooks.
 *   202 accepted (the workflow id; the run id once started) · 200 duplicate (the ledger had the
 *   event) · 400 malformed · 401 bad signature · 403 address not in the source's allowlist ·
 *   404 unknown source · 413 too large · 415 wrong content type or encoding · 429 over the
 *   source's limit for the tenant (Retry-After) · 503 + Retry-After when PostgreSQL cannot commit
 *   the row or no secret is configured.
 * Never a 2xx without a committed row; nothing refused writes a ledger row.
 * The address and the limit are checked before the body is read; signature failures are watched
 * per tenant and source and raise an alert past a threshold (lib/temporal/webhook-signature-alerts.ts).
 *
 * This is the API's hot path (a provider's burst), so it runs on node:http's request and response
 * directly, ahead of Express itself (its request set-up, routing, middleware chain and body
 * parser): the app calls it before Express sees the request (api/app.ts), so it reads the
 * client's address and protocol by Express's `trust proxy` rules (api/forwarded.ts) and sets
 * helmet's headers, read once. It takes only a POST to one of `webhookRouteTemplates` whose URL
 * is well formed and whose path tenant, if any, is a tenant name; anything else, those refusals
 * included, goes on to Express, which answers it as for any route.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Transform } from 'node:stream';
import zlib from 'node:zlib';
import getRawBody from 'raw-body';
import type { Pool } from 'pg';
import type { Config } from '../lib/config/config';
import type { Logger } from '../lib/logger';
import { webhookWorkflowId } from '../contracts/webhook';
import { InboxWriter, type InboxAnswer } from '../lib/data/webhook-inbox';
import type { SignatureFailureWatch } from '../lib/temporal/webhook-signature-alerts';
import { errorBody } from './errors';
import { webhookOutcomes, type ApiMetrics, type WebhookOutcome } from './metrics';
import { urlProblem } from './route-input';
import { tenantPattern } from './tenant';
import { schemes } from './webhook-schemes';
import type { StoredWebhookSecrets } from './stored-webhook-secrets';
import type { ThrottleNotices } from './throttle-notices';
import type { WebhookSecrets } from './webhook-secrets';
import type { WebhookSource, WebhookSources } from './webhook-sources';

/** The routes the intake serves, as the API document names them. */
export const webhookRouteTemplates = [
  '/webhooks/generic/:source',
  '/webhooks/google/:source',
  '/webhooks/:source',
  '/tenants/:tenant/webhooks/generic/:source',
  '/tenants/:tenant/webhooks/google/:source',
  '/tenants/:tenant/webhooks/:source',
] as const;

/**
 * A webhook path, as Express would route it: case-insensitive, an optional trailing slash, each
 * `:param` one non-empty segment. Google push channels go by API: /webhooks/google/sheets is the
 * `google-sheets` source.
 */
const webhookPath = /^(?:\/tenants\/([^/]+))?\/webhooks\/(?:(generic|google)\/)?([^/]+)\/?$/i;

/** How a route's `:source` becomes a source name: as is, `generic:<name>`, or `google-<api>`. */
type SourcePrefix = '' | 'generic:' | 'google-';

/** What the request log line says of a request beyond its method, route, status and duration. */
export interface RequestFacts {
  workflowId?: string;
  runId?: string;
  /** The key id or token subject, tenant and role; never the credential itself. */
  caller?: { id: string; tenant: string; role: string };
}

/** Who measures and logs each answered request (api/app.ts): the route is its template. */
export type RequestRecorder = (req: IncomingMessage, res: ServerResponse, route: string, startedAt: bigint, facts?: RequestFacts) => void;

export interface WebhookIntakeDeps {
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
  /** The app's security headers (helmet's, read once), set on every answer as on the app's own. */
  securityHeaders: Readonly<Record<string, string>>;
  record: RequestRecorder;
  /**
   * The caller's address for `allowIps`, following the app's `trust proxy` setting (an
   * X-Forwarded-For counts only from a trusted proxy).
   */
  addressOf: (req: IncomingMessage) => string | undefined;
  /** `http` or `https`, by the same setting (X-Forwarded-Proto from a trusted proxy): part of the URL some schemes sign. */
  protocolOf: (req: IncomingMessage) => string;
}

export interface WebhookIntake {
  /** Takes the request if it is a webhook (see above) and answers it; false: the app's. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
}

/** The stream that inflates a body sent with this Content-Encoding, or undefined: one not taken. */
function inflaterFor(encoding: string): Transform | undefined {
  switch (encoding) {
    case 'gzip':
      return zlib.createGunzip();
    case 'deflate':
      return zlib.createInflate();
    case 'br':
      return zlib.createBrotliDecompress();
    default:
      return undefined;
  }
}

/** A body-reading failure with the 4xx it gets (raw-body's errors carry theirs). */
interface BodyError {
  status?: number;
  type?: string;
  message: string;
}

/**
 * Fixed windows of a minute per key (tenant and source), like express-rate-limit's memory store:
 * the count and the seconds until the window resets. Windows that ended are swept each minute,
 * so keys from names an attacker makes up do not pile up.
 */
function minuteWindows(): { hit(key: string, nowMs: number): { count: number; resetSeconds: number } } {
  const windows = new Map<string, { count: number; resetAtMs: number }>();
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [key, window] of windows) if (window.resetAtMs <= now) windows.delete(key);
  }, 60_000);
  sweep.unref();
  return {
    hit(key, nowMs) {
      let window = windows.get(key);
      if (!window || window.resetAtMs <= nowMs) {
        window = { count: 0, resetAtMs: nowMs + 60_000 };
        windows.set(key, window);
      }
      window.count += 1;
      return { count: window.count, resetSeconds: Math.max(1, Math.ceil((window.resetAtMs - nowMs) / 1000)) };
    },
  };
}

export function webhookIntake(deps: WebhookIntakeDeps): WebhookIntake {
  const { config, pool, metrics, logger, webhookSources, webhookSecrets, storedWebhookSecrets, throttles, signatureWatch } = deps;
  // Concurrent webhooks share a commit (group commit); each is answered once its row is durable.
  const inbox = new InboxWriter(pool, config.TEMPORAL_TASK_QUEUE);
  const limits = minuteWindows();
  const count = (provider: string, outcome: WebhookOutcome, n = 1): void => {
    metrics.webhooksReceived.inc({ provider, outcome }, n);
  };
  // Zeros for every configured source's provider: rates and refusal ratios exist before the first webhook.
  for (const provider of new Set([...[...webhookSources.values()].map((s) => s.provider), 'unknown'])) {
    for (const outcome of webhookOutcomes) count(provider, outcome, 0);
  }
  const limitOf = (source: WebhookSource): number => source.rateLimitPerMinute ?? config.WEBHOOK_RATE_LIMIT_PER_MINUTE;

  /** An answer to a webhook: JSON, with the app's security headers. */
  function answer(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (res.headersSent) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { ...deps.securityHeaders, ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  /** The source a path names, or undefined after a 404. */
  function sourceFor(res: ServerResponse, prefix: SourcePrefix, named: string): WebhookSource | undefined {
    const name = `${prefix}${named}`;
    const source = webhookSources.get(name);
    if (!source || (prefix !== 'generic:' && name.startsWith('generic:'))) {
      count('unknown', 'unknown_source');
      answer(res, 404, errorBody('unknown_source', `no webhook source "${name}" is configured`));
      return undefined;
    }
    return source;
  }

  /** 429 + Retry-After past the source's requests a minute for the tenant: the provider retries later. */
  function withinLimit(res: ServerResponse, source: WebhookSource, tenant: string): boolean {
    const limit = limitOf(source);
    if (limit === 0) return true;
    // Keyed by tenant and source, never the address: X-Forwarded-For plays no part here.
    const { count: seen, resetSeconds } = limits.hit(`${tenant}\n${source.name}`, Date.now());
    // The IETF draft-7 headers, as the service API's limits send them.
    res.setHeader('RateLimit-Policy', `${limit};w=60`);
    res.setHeader('RateLimit', `limit=${limit}, remaining=${Math.max(0, limit - seen)}, reset=${resetSeconds}`);
    if (seen <= limit) return true;
    count(source.provider, 'rate_limited');
    answer(res, 429, errorBody('rate_limited', `more than ${limit} ${source.name} webhooks a minute for tenant ${tenant}; retry after the Retry-After seconds`), {
      'retry-after': String(resetSeconds),
    });
    throttles?.throttled({
      kind: 'webhook_source',
      tenant,
      subject: source.name,
      limitPerMinute: limit,
      retryAfterSeconds: resetSeconds,
      reason: `more than ${limit} ${source.name} webhooks a minute`,
    });
    return false;
  }

  /** 415 before the body is even read: the provider sends one content type per scheme. */
  function contentTypeAllowed(req: IncomingMessage, res: ServerResponse, source: WebhookSource): boolean {
    const scheme = schemes[source.scheme];
    if (scheme.contentTypes.length === 0) return true;
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (scheme.contentTypes.includes(type)) return true;
    count(source.provider, 'unsupported_media_type');
    answer(res, 415, errorBody('unsupported_media_type', `${source.name} webhooks are ${scheme.contentTypes.join(' or ')}, not "${type || 'none'}"`));
    return false;
  }

  /**
   * The body as sent, inflated if it came compressed (gzip, deflate, br), within
   * WEBHOOK_BODY_LIMIT_BYTES; a failure is read off to the end before it is answered, so the
   * connection stays usable.
   */
  async function readBody(req: IncomingMessage): Promise<Buffer> {
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    let inflate: Transform | undefined;
    try {
      if (encoding !== 'identity') {
        inflate = inflaterFor(encoding);
        if (!inflate) throw Object.assign(new Error(`unsupported content encoding "${encoding}"`), { status: 415, type: 'encoding.unsupported' });
        req.pipe(inflate);
      }
      return await getRawBody(inflate ?? req, { limit: config.WEBHOOK_BODY_LIMIT_BYTES, length: inflate ? undefined : req.headers['content-length'] });
    } catch (err) {
      if (inflate) {
        req.unpipe(inflate);
        inflate.destroy();
      }
      if (!req.complete) {
        await new Promise<void>((resolve) => {
          req.once('end', resolve).once('close', resolve);
          req.resume();
        });
      }
      throw err;
    }
  }

  /** Body failures: the size limit and unreadable bodies, counted per provider. */
  function bodyRefused(res: ServerResponse, source: WebhookSource, err: BodyError): boolean {
    if (err.type === 'entity.too.large') {
      count(source.provider, 'too_large');
      answer(res, 413, errorBody('body_too_large', `body exceeds ${config.WEBHOOK_BODY_LIMIT_BYTES} bytes`));
      return true;
    }
    const status = err.status ?? 400;
    if (status < 400 || status >= 500) return false;
    count(source.provider, 'malformed');
    answer(res, status, errorBody('unreadable_body', err.message));
    return true;
  }

  async function receive(req: IncomingMessage, res: ServerResponse, source: WebhookSource, tenant: string, ids: RequestFacts): Promise<void> {
    if (source.allowIps) {
      const address = deps.addressOf(req);
      if (!source.allowIps.allows(address)) {
        count(source.provider, 'forbidden_address');
        return answer(res, 403, errorBody('forbidden_address', `${source.name} webhooks are received only from the source's allowed addresses (allowIps); this request came from ${address ?? 'an unknown address'}`));
      }
    }
    if (!withinLimit(res, source, tenant) || !contentTypeAllowed(req, res, source)) return;
    let rawBody: Buffer;
    try {
      rawBody = await readBody(req);
    } catch (err) {
      if (bodyRefused(res, source, err as BodyError)) return;
      throw err;
    }
    const scheme = schemes[source.scheme];
    const now = new Date();
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(req.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    const inbound = {
      rawBody,
      headers,
      url: `${config.PUBLIC_BASE_URL ?? `${deps.protocolOf(req)}://${req.headers.host ?? 'localhost'}`}${req.url}`,
      nowSeconds: Math.floor(now.getTime() / 1000),
    };
    const stored = storedWebhookSecrets ? await storedWebhookSecrets.secretsFor(tenant, source.name, now) : { secrets: [], complete: true };
    const secrets = [...new Set([...stored.secrets, ...webhookSecrets.secretsFor(tenant, source.name, now)])];
    if (secrets.length === 0 && stored.complete) {
      count(source.provider, 'not_configured');
      // 503, not 4xx: the provider keeps the event and retries once a secret is configured.
      return answer(res, 503, errorBody('not_configured', `no signing secret is configured for ${source.name} (tenant ${tenant})`), { 'retry-after': '60' });
    }
    const verified = scheme.verify(inbound, secrets, source.options);
    if (!verified.ok && !stored.complete) {
      // A stored secret could not be read: the event may be signed with it, so the provider must retry.
      count(source.provider, 'secrets_unavailable');
      return answer(res, 503, errorBody('secrets_unavailable', `the stored signing secrets of ${source.name} (tenant ${tenant}) cannot be read right now`), { 'retry-after': '60' });
    }
    const watched = { tenant, source: source.name, provider: source.provider };
    if (!verified.ok) {
      count(source.provider, 'invalid_signature');
      signatureWatch?.failed(watched);
      return answer(res, 401, errorBody('invalid_signature', verified.reason));
    }
    signatureWatch?.verified(watched);
    const extracted = scheme.extract(inbound, source.options);
    if (!extracted.ok) {
      count(source.provider, 'malformed');
      return answer(res, 400, errorBody('invalid_event', extracted.reason, extracted.fields));
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
      return answer(res, 503, errorBody('inbox_unavailable', 'the event could not be durably recorded right now; retry later'), { 'retry-after': '5' });
    }
    const fresh = accepted.filter((a) => !a.duplicate).length;
    if (fresh > 0) count(source.provider, 'accepted', fresh);
    if (fresh < accepted.length) count(source.provider, 'duplicate', accepted.length - fresh);
    ids.workflowId = accepted[0]?.workflowId;
    ids.runId = accepted[0]?.runId ?? undefined;
    const status = fresh > 0 ? 202 : 200;
    const shown = accepted.map((a) => ({
      eventId: a.eventId,
      workflowId: a.workflowId,
      ...(a.runId ? { runId: a.runId } : {}),
      ...(a.duplicate ? { duplicate: true } : {}),
    }));
    if (shown.length === 1) {
      const { eventId: _eventId, ...only } = shown[0]!;
      answer(res, status, only);
    } else {
      answer(res, status, { events: shown });
    }
  }

  /** A bug's answer, as the app's last resort gives it: 500, logged. */
  function failed(res: ServerResponse, err: unknown): void {
    logger.error({ err }, 'unhandled error');
    answer(res, 500, errorBody('internal_error', 'unexpected error'));
  }

  /** The intake's `handle`, which may throw. */
  function take(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.method !== 'POST') return false;
    const url = req.url ?? '';
    const queryAt = url.indexOf('?');
    const match = webhookPath.exec(queryAt === -1 ? url : url.slice(0, queryAt));
    // A malformed URL or path tenant is the app's to refuse, as on every route.
    if (!match || urlProblem(url) !== undefined) return false;
    const [, pathTenant, kind, named] = match;
    const tenantNamed = pathTenant === undefined ? undefined : decodeURIComponent(pathTenant);
    if (tenantNamed !== undefined && !tenantPattern.test(tenantNamed)) return false;
    const prefix: SourcePrefix = kind === undefined ? '' : kind.toLowerCase() === 'generic' ? 'generic:' : 'google-';
    const route = `${pathTenant === undefined ? '' : '/tenants/:tenant'}/webhooks/${kind === undefined ? '' : `${kind.toLowerCase()}/`}:source`;
    const startedAt = process.hrtime.bigint();
    const ids: RequestFacts = {};
    res.once('finish', () => deps.record(req, res, route, startedAt, ids));
    const source = sourceFor(res, prefix, decodeURIComponent(named!));
    if (!source) return true;
    // Without /tenants/:tenant the source's own tenant, if configured, is the default.
    const tenant = tenantNamed ?? source.tenant ?? config.DEFAULT_TENANT;
    receive(req, res, source, tenant, ids).catch((err: unknown) => failed(res, err));
    return true;
  }

  return {
    handle(req, res) {
      // Ahead of Express nothing catches a throw but node:http, which would end the process.
      try {
        return take(req, res);
      } catch (err) {
        failed(res, err);
        return true;
      }
    },
  };
}
