/**
 * The API's Prometheus metrics, on a registry of its own so several apps (tests) can coexist.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CircuitView } from '../lib/data/circuits';
import type { InboxBacklog } from '../lib/data/webhook-inbox';

/**
 * What became of a webhook request: accepted, duplicate, or refused for one of a bounded set of
 * reasons (unknown_source is counted under provider `unknown`: the path's name is the caller's).
 */
export const webhookOutcomes = [
  'accepted',
  'duplicate',
  'invalid_signature',
  'forbidden_address',
  'rate_limited',
  'malformed',
  'too_large',
  'unsupported_media_type',
  'unknown_source',
  'not_configured',
  'secrets_unavailable',
  'unavailable',
  'error',
] as const;
export type WebhookOutcome = (typeof webhookOutcomes)[number];

export interface ApiMetrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  /** The seeds' name: requests by method, route template and status class (`2xx` … `5xx`). */
  httpRequests: Counter<'method' | 'route' | 'status'>;
  webhooksReceived: Counter<'provider' | 'outcome'>;
  batchItemsAccepted: Counter<'provider' | 'operation' | 'priority' | 'duplicate'>;
}

export function createApiMetrics(): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by method, route template and status code',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    httpRequests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests by method, route template and status class (1xx, 2xx, 3xx, 4xx, 5xx)',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    batchItemsAccepted: new Counter({
      name: 'batch_items_accepted_total',
      help: 'Items accepted by POST /batches (items in), by provider, operation, priority and whether a duplicate',
      labelNames: ['provider', 'operation', 'priority', 'duplicate'],
      registers: [registry],
    }),
    webhooksReceived: new Counter({
      name: 'webhooks_received_total',
      help: 'Provider webhooks received, by provider (of a configured source, else unknown) and outcome: accepted, duplicate or the reason refused',
      labelNames: ['provider', 'outcome'],
      registers: [registry],
    }),
  };
}

const circuitStateValue = { closed: 0, half_open: 1, open: 2 } as const;

/** Exports every provider's circuit state (0 closed, 1 half-open, 2 open), read from PostgreSQL at scrape time. */
export function exportCircuitStates(metrics: ApiMetrics, readCircuits: () => Promise<CircuitView[]>): void {
  new Gauge({
    name: 'circuit_breaker_state',
    help: 'Circuit breaker state per provider: 0 closed, 1 half-open, 2 open',
    labelNames: ['provider'],
    registers: [metrics.registry],
    async collect() {
      this.reset();
      for (const circuit of await readCircuits()) this.set({ provider: circuit.provider }, circuitStateValue[circuit.state]);
    },
  });
}

/**
 * The webhook inbox's backlog (lib/data/webhook-inbox.ts), read from PostgreSQL at scrape time:
 * `webhook_inbox_unstarted` (committed webhook rows whose workflow no drainer has started yet) and
 * `webhook_inbox_oldest_age_seconds` (how long the oldest of them has waited; 0 when none waits).
 * Both are system-wide, without labels: every API replica exports the same values (alert on their
 * max). One read serves both gauges of a scrape. A read that fails keeps the last values (0 before
 * the first read) and is reported to `onError`: /metrics still answers, and PostgreSQL being down
 * is /readyz's and ServiceDown's to say.
 */
export function exportInboxBacklog(metrics: ApiMetrics, readBacklog: () => Promise<InboxBacklog>, onError: (err: unknown) => void = () => undefined): void {
  let last: InboxBacklog = { unstarted: 0, oldestAgeSeconds: 0 };
  let reading: Promise<InboxBacklog> | undefined;
  const read = (): Promise<InboxBacklog> =>
    (reading ??= readBacklog()
      .then(
        (backlog) => (last = backlog),
        (err: unknown) => {
          onError(err);
          return last;
        },
      )
      .finally(() => (reading = undefined)));
  new Gauge({
    name: 'webhook_inbox_unstarted',
    help: 'Webhooks committed to the inbox (webhook_events) whose workflow is not started yet, across every task queue',
    registers: [metrics.registry],
    async collect() {
      this.set((await read()).unstarted);
    },
  });
  new Gauge({
    name: 'webhook_inbox_oldest_age_seconds',
    help: 'Seconds the oldest webhook waiting in the inbox for its workflow start has waited (0 when none waits)',
    registers: [metrics.registry],
    async collect() {
      this.set((await read()).oldestAgeSeconds);
    },
  });
}

/** `404` → `4xx`: the status label of http_requests_total. */
export function statusClass(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other';
}
