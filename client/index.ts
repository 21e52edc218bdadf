/**
 * The typed HTTP client for services and operators: one method per service-API route a caller
 * needs, request and response types inferred from the zod schemas each route declares
 * (api/routes/*, api/schemas.ts: the ones the route validates with and the OpenAPI document is
 * made from), so a change there shows up here at compile time; test/unit/client-types.test.ts
 * checks each type against its route's declaration. The types name the schemas, not the
 * declarations, so the published types need no server packages (express, pg). Every failure is typed: SwitchyardApiError (the API answered with an error),
 * SwitchyardConnectionError (no answer), SwitchyardTimeoutError (a bounded wait ran out).
 * Services with their own Temporal client use `switchyard/client/temporal` instead.
 */
import type { z } from 'zod';
import type * as schemas from '../api/schemas';
import type { BookingStatus, ProviderCallStatus } from '../contracts/call';
import type { WebhookStatus } from '../contracts/webhook';

// ---------------------------------------------------------------- types from the schemas

/** `z.coerce` query fields read `unknown` as input types; callers pass numbers. */
type WithLimit<Q> = Omit<Q, 'limit' | 'offset'> & { limit?: number } & ('offset' extends keyof Q ? { offset?: number } : unknown);

export type CallPriority = z.input<typeof schemas.callBody>['priority'];
export type CallParams = z.input<typeof schemas.callBody>['params'];
export type CallAnswer = z.infer<typeof schemas.callAnswer>;
export type CallsQuery = WithLimit<z.input<typeof schemas.callsQuery>>;
export type CallList = z.infer<typeof schemas.callList>;
export type BookingInput = z.input<typeof schemas.bookingBody>;
export type BookingsQuery = WithLimit<z.input<typeof schemas.bookingsQuery>>;
export type BookingList = z.infer<typeof schemas.bookingList>;
export type BatchItemPriority = z.input<typeof schemas.batchItemBody>['priority'];
export type BatchParams = z.input<typeof schemas.batchItemBody>['params'];
export type BatchItemAccepted = z.infer<typeof schemas.batchItemAccepted>;
/** POST /batches/…'s 200 (the item sent within the wait) and 202 (accepted) in one type. */
export type BatchItemWaited = z.infer<typeof schemas.batchItemWaited>;
export type BatchItemAnswer = z.infer<typeof schemas.batchItemAnswer>;
export type BatchItemsQuery = WithLimit<z.input<typeof schemas.batchItemsQuery>>;
export type BatchItemList = z.infer<typeof schemas.batchItemList>;
export type EventsQuery = WithLimit<z.input<typeof schemas.eventsQuery>>;
export type EventList = z.infer<typeof schemas.eventList>;
export type RerunAnswer = z.infer<typeof schemas.rerunAnswer>;
export type DeliveriesQuery = WithLimit<z.input<typeof schemas.deliveriesQuery>>;
export type DeliveryList = z.infer<typeof schemas.deliveryList>;
export type SubscriberInput = z.input<typeof schemas.subscriberBody>;
export type Subscriber = z.infer<typeof schemas.subscriber>;
export type SubscriberCreated = z.infer<typeof schemas.subscriberCreated>;
export type SubscriberList = z.infer<typeof schemas.subscriberList>;
export type AlertsQuery = WithLimit<z.input<typeof schemas.alertsQuery>>;
export type AlertList = z.infer<typeof schemas.alertList>;
export type AlertView = z.infer<typeof schemas.alertView>;
export type AckInput = z.input<typeof schemas.ackBody>;
export type AckAnswer = z.infer<typeof schemas.ackAnswer>;
export type SlaQuery = WithLimit<z.input<typeof schemas.slaQuery>>;
export type SlaAnswer = z.infer<typeof schemas.slaAnswer>;
export type ProviderHealth = z.infer<typeof schemas.providerHealth>;
export type BudgetList = z.infer<typeof schemas.budgetList>;
export type CircuitList = z.infer<typeof schemas.circuitList>;
export type PeriodQuery = z.input<typeof schemas.periodQuery>;
export type CacheStatsQuery = z.input<typeof schemas.cacheStatsQuery>;
export type CacheStats = z.infer<typeof schemas.cacheStatsAnswer>;
export type CircuitReset = z.infer<typeof schemas.circuitReset>;
export type RateLimitList = z.infer<typeof schemas.rateLimitList>;
export type BatchQueueList = z.infer<typeof schemas.batchQueueList>;
export type AlertStatistics = z.infer<typeof schemas.alertStatistics>;
export type EffectiveConfig = z.infer<typeof schemas.effectiveConfig>;
export type FailoverTable = z.infer<typeof schemas.failoverTable>;
export type PerformanceReport = z.infer<typeof schemas.performanceReport>;
export type ApiKeyInput = z.input<typeof schemas.apiKeyBody>;
export type ApiKeyInfo = z.infer<typeof schemas.apiKeyInfo>;
export type ApiKeyCreated = z.infer<typeof schemas.apiKeyCreated>;
export type ApiKeyList = z.infer<typeof schemas.apiKeyList>;
export type WebhookSecretInput = z.input<typeof schemas.webhookSecretBody>;
export type WebhookSecretsQuery = z.input<typeof schemas.webhookSecretsQuery>;
export type WebhookSecretPatch = z.input<typeof schemas.webhookSecretPatch>;
export type WebhookSecretInfo = z.infer<typeof schemas.webhookSecretInfo>;
export type WebhookSecretCreated = z.infer<typeof schemas.webhookSecretCreated>;
export type WebhookSecretList = z.infer<typeof schemas.webhookSecretList>;
export type AuditQuery = WithLimit<z.input<typeof schemas.auditQuery>>;
export type AuditList = z.infer<typeof schemas.auditList>;
export type WebhookAccepted = z.infer<typeof schemas.webhookAccepted>;
export type ReadyAnswer = z.infer<typeof schemas.readyAnswer>;
export type ErrorAnswer = z.infer<typeof schemas.errorAnswer>;

/**
 * GET /calls/:id, /bookings/:id, /webhooks/events/:id: the execution's description merged with the
 * workflow's own status query `S`, or `status: null` while no worker has answered it.
 */
export type WorkflowView<S extends object> = WorkflowDescription & (S | { status: null });
type ViewShape = typeof schemas.workflowView.shape;
/** The schema's fields other than `status` (Omit would lose them to the schema's index signature). */
export type WorkflowDescription = { [K in Exclude<keyof ViewShape, 'status'>]: z.infer<ViewShape[K]> };
export type CallView = WorkflowView<ProviderCallStatus>;
export type BookingView = WorkflowView<BookingStatus>;
export type EventView = WorkflowView<WebhookStatus> & { ledger?: unknown; deliveries?: unknown };

// ---------------------------------------------------------------- errors

/** The API answered with an error (`{error, reason, fields?}`); `retryAfter` in seconds when it said. */
export class SwitchyardApiError extends Error {
  constructor(
    public readonly status: number,
    public readonly error: string,
    public readonly reason: string,
    public readonly fields?: Record<string, string>,
    public readonly retryAfter?: number,
  ) {
    super(`${status} ${error}: ${reason}`);
    this.name = 'SwitchyardApiError';
  }
}

/** No answer from the API: refused, reset, DNS, or no answer within the request timeout. */
export class SwitchyardConnectionError extends Error {
  constructor(
    public readonly url: string,
    public readonly reason: string,
  ) {
    super(`cannot reach the Switchyard API at ${url}: ${reason}`);
    this.name = 'SwitchyardConnectionError';
  }
}

/** A bounded wait (waitForCall, waitForBatchItem) ended before the work did; `last` is the last answer seen. */
export class SwitchyardTimeoutError extends Error {
  constructor(
    public readonly id: string,
    public readonly timeoutMs: number,
    public readonly last: unknown,
  ) {
    super(`${id} did not finish within ${timeoutMs} ms`);
    this.name = 'SwitchyardTimeoutError';
  }
}

// ---------------------------------------------------------------- the client

export interface SwitchyardClientOptions {
  /** e.g. http://127.0.0.1:3000 */
  baseUrl: string;
  /** An API key `sy_…`; sent as `Authorization: Bearer`. */
  apiKey?: string;
  /** A JWT, when the API accepts them; sent as `Authorization: Bearer`. */
  token?: string;
  /** Scope every service request to `/tenants/<tenant>/…` (must be the credential's own tenant). */
  tenant?: string;
  /** A fetch implementation (default: the global one). */
  fetch?: typeof fetch;
  /** Longest wait for one HTTP answer, on top of any `wait` asked of the API (default 30 s). */
  requestTimeoutMs?: number;
}

export interface WaitOptions {
  /** Bound of the whole wait (default 30 s). */
  timeoutMs?: number;
  /** Between polls (default 250 ms). */
  intervalMs?: number;
}

type Query = Record<string, string | number | boolean | undefined>;

interface RequestOptions {
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
  /** Service routes get the tenant prefix and the credential; public ones (webhooks, readyz) do not. */
  service?: boolean;
  /** Non-2xx statuses answered as results rather than errors (e.g. 503 of /readyz). */
  accept?: number[];
  /** Extra time the API was asked to wait (`?wait=`), added to the request timeout. */
  waitMs?: number;
  rawBody?: string;
}

interface Answer<T> {
  status: number;
  body: T;
  headers: Headers;
}

const seg = encodeURIComponent;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function retryAfterSeconds(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** The innermost cause's code or message of a failed fetch ("ECONNREFUSED", "getaddrinfo ENOTFOUND …"). */
function networkReason(err: unknown): string {
  let current: unknown = err;
  while (current instanceof Error && current.cause !== undefined) current = current.cause;
  if (current instanceof Error) return (current as NodeJS.ErrnoException).code ?? current.message;
  return String(current);
}

export class SwitchyardClient {
  private readonly baseUrl: string;
  private readonly credential: string | undefined;
  private readonly tenant: string | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly requestTimeoutMs: number;

  constructor(options: SwitchyardClientOptions) {
    if (options.apiKey !== undefined && options.token !== undefined) throw new TypeError('give apiKey or token, not both');
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.credential = options.apiKey ?? options.token;
    this.tenant = options.tenant;
    this.fetchImpl = options.fetch ?? fetch;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  }

  // ------------------------------------------------------------ work: calls, sagas, batches

  /** POST /calls/:provider/:operation: starts (or finds, by idempotency key) a providerCall and waits up to `wait` ms. */
  async call(
    provider: string,
    operation: string,
    params: CallParams,
    options: { idempotencyKey: string; priority?: CallPriority; wait?: number },
  ): Promise<CallAnswer> {
    const body: z.input<typeof schemas.callBody> = { params, priority: options.priority };
    return (
      await this.request<CallAnswer>('POST', `/calls/${seg(provider)}/${seg(operation)}`, {
        body,
        query: { wait: options.wait },
        waitMs: options.wait,
        headers: { 'idempotency-key': options.idempotencyKey },
      })
    ).body;
  }

  /** POST /bookings: the booking saga (charge, calendar event, SMS, email; compensated on failure). */
  async book(booking: BookingInput, options: { idempotencyKey: string; wait?: number }): Promise<CallAnswer> {
    return (
      await this.request<CallAnswer>('POST', '/bookings', {
        body: booking,
        query: { wait: options.wait },
        waitMs: options.wait,
        headers: { 'idempotency-key': options.idempotencyKey },
      })
    ).body;
  }

  /** POST /batches/:provider/:operation: queues one item; with `wait` the answer may carry its result. */
  async enqueue(
    provider: string,
    operation: string,
    params: BatchParams,
    options: { priority?: BatchItemPriority; dedupKey?: string; wait?: number } = {},
  ): Promise<BatchItemWaited> {
    const body: z.input<typeof schemas.batchItemBody> = { params, priority: options.priority, dedupKey: options.dedupKey };
    return (
      await this.request<BatchItemWaited>('POST', `/batches/${seg(provider)}/${seg(operation)}`, {
        body,
        query: { wait: options.wait },
        waitMs: options.wait,
      })
    ).body;
  }

  /** GET /calls: the tenant's provider calls, from Temporal's visibility. */
  async listCalls(query: CallsQuery = {}): Promise<CallList> {
    return (await this.request<CallList>('GET', '/calls', { query })).body;
  }

  async getCall(workflowId: string): Promise<CallView> {
    return (await this.request<CallView>('GET', `/calls/${seg(workflowId)}`)).body;
  }

  /** GET /bookings: the tenant's booking sagas, from Temporal's visibility. */
  async listBookings(query: BookingsQuery = {}): Promise<BookingList> {
    return (await this.request<BookingList>('GET', '/bookings', { query })).body;
  }

  async getBooking(workflowId: string): Promise<BookingView> {
    return (await this.request<BookingView>('GET', `/bookings/${seg(workflowId)}`)).body;
  }

  /** GET /batches/items: the tenant's sent and failed batch items, newest first (queued ones: getBatchItem). */
  async listBatchItems(query: BatchItemsQuery = {}): Promise<BatchItemList> {
    return (await this.request<BatchItemList>('GET', '/batches/items', { query })).body;
  }

  async getBatchItem(itemId: string): Promise<BatchItemAnswer> {
    return (await this.request<BatchItemAnswer>('GET', `/batches/items/${seg(itemId)}`)).body;
  }

  /** Polls GET /calls/:id until the workflow closed; SwitchyardTimeoutError after `timeoutMs`. */
  waitForCall(workflowId: string, options: WaitOptions = {}): Promise<CallView> {
    return this.poll(workflowId, () => this.getCall(workflowId), (view) => view.executionStatus !== 'RUNNING', options);
  }

  /** Polls GET /bookings/:id until the saga closed. */
  waitForBooking(workflowId: string, options: WaitOptions = {}): Promise<BookingView> {
    return this.poll(workflowId, () => this.getBooking(workflowId), (view) => view.executionStatus !== 'RUNNING', options);
  }

  /** Polls GET /batches/items/:id until the item was sent or failed. */
  waitForBatchItem(itemId: string, options: WaitOptions = {}): Promise<BatchItemAnswer> {
    return this.poll(itemId, () => this.getBatchItem(itemId), (item) => item.status === 'sent' || item.status === 'failed', options);
  }

  // ------------------------------------------------------------ webhook events and deliveries

  async listEvents(query: EventsQuery = {}): Promise<EventList> {
    return (await this.request<EventList>('GET', '/webhooks/events', { query })).body;
  }

  async getEvent(workflowId: string): Promise<EventView> {
    return (await this.request<EventView>('GET', `/webhooks/events/${seg(workflowId)}`)).body;
  }

  /** Re-runs a failed event under the same id (409 unless it failed). */
  async retryEvent(workflowId: string): Promise<RerunAnswer> {
    return (await this.request<RerunAnswer>('POST', `/webhooks/events/${seg(workflowId)}/retry`)).body;
  }

  async listDeliveries(query: DeliveriesQuery = {}): Promise<DeliveryList> {
    return (await this.request<DeliveryList>('GET', '/deliveries', { query })).body;
  }

  async replayDelivery(deliveryId: string): Promise<RerunAnswer> {
    return (await this.request<RerunAnswer>('POST', `/deliveries/${seg(deliveryId)}/replay`)).body;
  }

  async listSubscribers(): Promise<SubscriberList> {
    return (await this.request<SubscriberList>('GET', '/subscribers')).body;
  }

  /** The answer's `signingSecret` is shown this once. */
  async createSubscriber(subscriber: SubscriberInput): Promise<SubscriberCreated> {
    return (await this.request<SubscriberCreated>('POST', '/subscribers', { body: subscriber })).body;
  }

  /**
   * POST /webhooks/:source (generic sources: `generic:<name>`) with a body signed by the caller,
   * exactly as a provider sends it; no credential is sent. Resolves on 200 (duplicate) and 202.
   */
  async sendWebhook(
    source: string,
    request: { body: string; headers: Record<string, string>; tenant?: string },
  ): Promise<{ status: number; answer: WebhookAccepted }> {
    const tenant = request.tenant ?? this.tenant;
    const answer = await this.request<WebhookAccepted>('POST', `${tenant ? `/tenants/${seg(tenant)}` : ''}${webhookPath(source)}`, {
      service: false,
      rawBody: request.body,
      headers: request.headers,
    });
    return { status: answer.status, answer: answer.body };
  }

  // ------------------------------------------------------------ monitoring

  async providerHealth(): Promise<ProviderHealth> {
    return (await this.request<ProviderHealth>('GET', '/provider-health')).body;
  }

  async circuits(): Promise<CircuitList> {
    return (await this.request<CircuitList>('GET', '/circuits')).body;
  }

  async budgets(): Promise<BudgetList> {
    return (await this.request<BudgetList>('GET', '/budgets')).body;
  }

  /** The tenant's cache per namespace (provider/operation): hits, misses, hit rate over `period` (default 24h), live entries. */
  async cacheStats(query: CacheStatsQuery = {}): Promise<CacheStats> {
    return (await this.request<CacheStats>('GET', '/cache/stats', { query })).body;
  }

  /** Closes the provider's circuit now (operator or admin; audited as `circuit.reset`). */
  async resetCircuit(provider: string): Promise<CircuitReset> {
    return (await this.request<CircuitReset>('POST', `/circuits/${seg(provider)}/reset`)).body;
  }

  /** Each provider's rate limit, recent use and throttles. */
  async rateLimits(): Promise<RateLimitList> {
    return (await this.request<RateLimitList>('GET', '/rate-limits')).body;
  }

  /** Items queued in the tenant's open batches, per provider and priority. */
  async batchQueues(): Promise<BatchQueueList> {
    return (await this.request<BatchQueueList>('GET', '/batch-queues')).body;
  }

  /** Alerts started in `period` (default 24h): counts by severity and state, time to acknowledge and resolve. */
  async alertStatistics(query: PeriodQuery = {}): Promise<AlertStatistics> {
    return (await this.request<AlertStatistics>('GET', '/alerts/statistics', { query })).body;
  }

  /** The configuration in force, without secrets. */
  async effectiveConfig(): Promise<EffectiveConfig> {
    return (await this.request<EffectiveConfig>('GET', '/config')).body;
  }

  async failoverTable(): Promise<FailoverTable> {
    return (await this.request<FailoverTable>('GET', '/config/failover')).body;
  }

  /** Requests saved by batching and the cache, provider requests and spend against budget over `period` (default 24h). */
  async performanceReport(query: PeriodQuery = {}): Promise<PerformanceReport> {
    return (await this.request<PerformanceReport>('GET', '/reports/performance', { query })).body;
  }

  async sla(query: SlaQuery = {}): Promise<SlaAnswer> {
    return (await this.request<SlaAnswer>('GET', '/sla', { query })).body;
  }

  async listAlerts(query: AlertsQuery = {}): Promise<AlertList> {
    return (await this.request<AlertList>('GET', '/alerts', { query })).body;
  }

  async getAlert(id: string): Promise<AlertView> {
    return (await this.request<AlertView>('GET', `/alerts/${seg(id)}`)).body;
  }

  /** Stops the alert's escalation (409 when it is not firing). */
  async ackAlert(id: string, by?: string): Promise<AckAnswer> {
    const body: AckInput = by === undefined ? {} : { by };
    return (await this.request<AckAnswer>('POST', `/alerts/${seg(id)}/ack`, { body })).body;
  }

  /** GET /readyz: 200 and 503 both answer with the checks. */
  async ready(): Promise<ReadyAnswer> {
    return (await this.request<ReadyAnswer>('GET', '/readyz', { service: false, accept: [503] })).body;
  }

  // ------------------------------------------------------------ API keys (admin)

  /** A key of the caller's tenant; `key` is in this answer only. */
  async createApiKey(input: ApiKeyInput): Promise<ApiKeyCreated> {
    return (await this.request<ApiKeyCreated>('POST', '/api-keys', { body: input })).body;
  }

  async listApiKeys(): Promise<ApiKeyList> {
    return (await this.request<ApiKeyList>('GET', '/api-keys')).body;
  }

  async revokeApiKey(keyId: string): Promise<void> {
    await this.request<unknown>('DELETE', `/api-keys/${seg(keyId)}`);
  }

  // ------------------------------------------------------------ webhook signing secrets (admin)

  /** Stores a source's signing secret (encrypted); with `generate: true` the new `secret` is in this answer only. */
  async addWebhookSecret(input: WebhookSecretInput): Promise<WebhookSecretCreated> {
    return (await this.request<WebhookSecretCreated>('POST', '/webhook-secrets', { body: input })).body;
  }

  /** Metadata and fingerprints, never a value. */
  async listWebhookSecrets(query: WebhookSecretsQuery = {}): Promise<WebhookSecretList> {
    return (await this.request<WebhookSecretList>('GET', '/webhook-secrets', { query })).body;
  }

  /** Ends (or, with null, reopens) the secret's rotation window: from `notAfter` on it no longer verifies. */
  async setWebhookSecretNotAfter(id: string, notAfter: string | null): Promise<WebhookSecretInfo> {
    const body: WebhookSecretPatch = { notAfter };
    return (await this.request<WebhookSecretInfo>('PATCH', `/webhook-secrets/${seg(id)}`, { body })).body;
  }

  async deleteWebhookSecret(id: string): Promise<void> {
    await this.request<unknown>('DELETE', `/webhook-secrets/${seg(id)}`);
  }

  // ------------------------------------------------------------ audit log (admin)

  /** The tenant's operator and admin actions, newest first. */
  async listAudit(query: AuditQuery = {}): Promise<AuditList> {
    return (await this.request<AuditList>('GET', '/audit', { query })).body;
  }

  // ------------------------------------------------------------ plumbing

  private async poll<T>(id: string, read: () => Promise<T>, done: (value: T) => boolean, options: WaitOptions): Promise<T> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const intervalMs = options.intervalMs ?? 250;
    const deadline = Date.now() + timeoutMs;
    let last: T | undefined;
    for (;;) {
      last = await read();
      if (done(last)) return last;
      const left = deadline - Date.now();
      if (left <= 0) throw new SwitchyardTimeoutError(id, timeoutMs, last);
      await sleep(Math.min(intervalMs, left));
    }
  }

  private async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<Answer<T>> {
    const service = options.service ?? true;
    const url = new URL(`${this.baseUrl}${service && this.tenant ? `/tenants/${seg(this.tenant)}` : ''}${path}`);
    for (const [name, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(name, String(value));
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (service && this.credential !== undefined) headers.authorization = `Bearer ${this.credential}`;
    let body: string | undefined = options.rawBody;
    if (body === undefined && options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    let res: Response;
    try {
      res = await this.fetchImpl(url, { method, headers, body, signal: AbortSignal.timeout(this.requestTimeoutMs + (options.waitMs ?? 0)) });
    } catch (err) {
      const timedOut = err instanceof Error && err.name === 'TimeoutError';
      throw new SwitchyardConnectionError(this.baseUrl, timedOut ? 'no answer within the request timeout' : networkReason(err));
    }
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok && !(options.accept ?? []).includes(res.status)) {
      const answer = (parsed ?? {}) as Partial<ErrorAnswer>;
      throw new SwitchyardApiError(
        res.status,
        typeof answer.error === 'string' ? answer.error : 'http_error',
        typeof answer.reason === 'string' ? answer.reason : res.statusText || `HTTP ${res.status}`,
        answer.fields,
        retryAfterSeconds(res.headers.get('retry-after')),
      );
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }
}

/** `stripe` → /webhooks/stripe, `generic:shopify` → /webhooks/generic/shopify. */
export function webhookPath(source: string): string {
  return source.startsWith('generic:') ? `/webhooks/generic/${seg(source.slice('generic:'.length))}` : `/webhooks/${seg(source)}`;
}
