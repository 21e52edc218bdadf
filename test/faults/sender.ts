/**
 * A webhook sender that behaves like a real provider: every delivery is signed at send time (as
 * Stripe does on each attempt), retried with jittered exponential backoff on 5xx, timeouts and
 * connection errors until it gives up, and never retried on a 4xx. An event counts as accepted
 * once any of its deliveries got a 2xx. A request that got no answer (the API was SIGKILLed with it
 * in flight: a reset or refused connection) may or may not have committed its row; like a provider,
 * the sender retries it with the same event id until an answer says which.
 */
import Stripe from 'stripe';
import { Agent, request } from 'undici';
import type { Logger } from '../../lib/logger';
import type { Delivery, PlannedEvent } from './plan';

export interface SenderOptions {
  url: string;
  secret: string;
  concurrency: number;
  /** Deliveries started per second; 0 = only the concurrency limit. */
  rate: number;
  giveUpMs: number;
  requestTimeoutMs: number;
  random: () => number;
  logger: Logger;
}

export interface EventOutcome {
  accepted: boolean;
  /** Answers by HTTP status over all this event's deliveries and attempts. */
  answers: Record<string, number>;
  deliveries: number;
  gaveUp: number;
  firstAcceptedAtMs: number | null;
}

export type RetryCause = `status_${number}` | 'timeout' | 'connection';

export interface SenderStats {
  dispatched: number;
  finished: number;
  attempts: number;
  answers: Record<string, number>;
  retries: Partial<Record<RetryCause, number>>;
  retriedDeliveries: number;
  gaveUp: number;
  /** Longest time one delivery spent being retried before its final answer. */
  longestRetryMs: number;
}

const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 10_000;
const WRONG_SECRET = 'whsec_faults_not_the_tenants_secret';
const STALE_SECONDS = 600;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Headers and body for one attempt: good deliveries signed now, bad ones wrong in their own way. */
function signedRequest(event: PlannedEvent, secret: string): { body: string; headers: Record<string, string> } {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const sign = (payload: string, key: string, timestamp?: number): string =>
    Stripe.webhooks.generateTestHeaderString({ payload, secret: key, timestamp });
  switch (event.bad) {
    case null:
      return { body: event.body, headers: { ...headers, 'stripe-signature': sign(event.body, secret) } };
    case 'wrong_secret':
      return { body: event.body, headers: { ...headers, 'stripe-signature': sign(event.body, WRONG_SECRET) } };
    case 'tampered_body':
      return { body: event.body.replace('"livemode":false', '"livemode":true'), headers: { ...headers, 'stripe-signature': sign(event.body, secret) } };
    case 'missing_header':
      return { body: event.body, headers };
    case 'stale_timestamp':
      return { body: event.body, headers: { ...headers, 'stripe-signature': sign(event.body, secret, Math.floor(Date.now() / 1000) - STALE_SECONDS) } };
  }
}

function isTimeout(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  const name = (err as { name?: string }).name;
  return code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || name === 'TimeoutError' || name === 'AbortError';
}

export class ProviderSender {
  readonly stats: SenderStats = {
    dispatched: 0,
    finished: 0,
    attempts: 0,
    answers: {},
    retries: {},
    retriedDeliveries: 0,
    gaveUp: 0,
    longestRetryMs: 0,
  };

  readonly outcomes = new Map<string, EventOutcome>();
  private readonly agent: Agent;
  private readonly startedAt = Date.now();

  /** Deliveries dispatched and not finished yet (some may be waiting to retry). */
  get inFlight(): number {
    return this.stats.dispatched - this.stats.finished;
  }

  constructor(private readonly options: SenderOptions) {
    this.agent = new Agent({ connections: options.concurrency * 2, keepAliveTimeout: 10_000 });
  }

  private outcome(eventId: string): EventOutcome {
    let outcome = this.outcomes.get(eventId);
    if (!outcome) {
      outcome = { accepted: false, answers: {}, deliveries: 0, gaveUp: 0, firstAcceptedAtMs: null };
      this.outcomes.set(eventId, outcome);
    }
    return outcome;
  }

  /** One attempt: the HTTP status, or the retry cause of a failure without one. */
  private async attempt(event: PlannedEvent): Promise<number | 'timeout' | 'connection'> {
    const { body, headers } = signedRequest(event, this.options.secret);
    try {
      const res = await request(`${this.options.url}/webhooks/stripe`, {
        method: 'POST',
        headers,
        body,
        dispatcher: this.agent,
        headersTimeout: this.options.requestTimeoutMs,
        bodyTimeout: this.options.requestTimeoutMs,
        signal: AbortSignal.timeout(this.options.requestTimeoutMs),
      });
      await res.body.dump();
      return res.statusCode;
    } catch (err) {
      return isTimeout(err) ? 'timeout' : 'connection';
    }
  }

  /** Delivers once, retrying like a provider until a 2xx/4xx or the give-up time. */
  private async deliver(delivery: Delivery): Promise<void> {
    const { event } = delivery;
    const outcome = this.outcome(event.eventId);
    outcome.deliveries++;
    const began = Date.now();
    let retries = 0;
    for (;;) {
      this.stats.attempts++;
      const answer = await this.attempt(event);
      const key = String(answer);
      this.stats.answers[key] = (this.stats.answers[key] ?? 0) + 1;
      outcome.answers[key] = (outcome.answers[key] ?? 0) + 1;
      if (typeof answer === 'number' && answer >= 200 && answer < 300) {
        if (!outcome.accepted) {
          outcome.accepted = true;
          outcome.firstAcceptedAtMs = Date.now() - this.startedAt;
        }
        break;
      }
      if (typeof answer === 'number' && answer >= 400 && answer < 500) break; // final: never retried
      const cause: RetryCause = typeof answer === 'number' ? `status_${answer}` : answer;
      if (Date.now() - began >= this.options.giveUpMs) {
        this.stats.gaveUp++;
        outcome.gaveUp++;
        this.options.logger.warn({ eventId: event.eventId, cause, retries }, 'sender gave up on a delivery');
        break;
      }
      retries++;
      this.stats.retries[cause] = (this.stats.retries[cause] ?? 0) + 1;
      const backoff = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (retries - 1));
      await sleep(backoff * (0.5 + this.options.random() / 2));
    }
    if (retries > 0) {
      this.stats.retriedDeliveries++;
      this.stats.longestRetryMs = Math.max(this.stats.longestRetryMs, Date.now() - began);
    }
    this.stats.finished++;
  }

  /** Sends every delivery in order, `concurrency` at a time and at most `rate` starts a second. */
  async send(deliveries: Delivery[], onDispatched: (dispatched: number) => void): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    const started = Date.now();
    for (const [index, delivery] of deliveries.entries()) {
      while (inFlight.size >= this.options.concurrency) await Promise.race(inFlight);
      if (this.options.rate > 0) {
        const due = started + (index * 1000) / this.options.rate;
        if (due > Date.now()) await sleep(due - Date.now());
      }
      const running: Promise<void> = this.deliver(delivery).finally(() => inFlight.delete(running));
      inFlight.add(running);
      this.stats.dispatched++;
      onDispatched(this.stats.dispatched);
    }
    await Promise.all(inFlight);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
