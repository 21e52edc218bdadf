/**
 * `GET /stream`: Server-Sent Events for dashboards that want push rather than poll: provider
 * status changes, alerts, SLA violations, webhook outcomes, budget warnings, batch flushes
 * (`batching`) and throttling (`rate_limit`), filtered by `?topics=provider,alert` and by the
 * request's tenant (system-wide events reach every tenant).
 * The worker publishes with PostgreSQL NOTIFY (lib/data/event-stream.ts); this process LISTENs on one
 * dedicated connection, taken from the pool for the first subscriber and given back after the
 * last one leaves, and fans every notification out to the open streams.
 */
import type { Request, Response } from 'express';
import type { Notification, Pool, PoolClient } from 'pg';
import type { Config } from '../../lib/config/config';
import type { Logger } from '../../lib/logger';
import { STREAM_CHANNEL, streamTopics, type StreamEvent, type StreamTopic } from '../../lib/data/event-stream';
import { sendError } from '../errors';
import { defineRoute, failure, routeGroup } from '../route';
import { streamQuery } from '../schemas';
import { requireTenant } from '../tenant';

type Listener = (event: StreamEvent) => void;

const HEARTBEAT_MS = 15_000;
const RECONNECT_MS = 1_000;

/** One LISTEN connection shared by every open stream of this process. */
export class StreamHub {
  private readonly listeners = new Set<Listener>();
  private client: PoolClient | null = null;
  private connecting: Promise<void> | null = null;
  private detach: () => void = () => undefined;

  constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
  ) {}

  /** Resolves once the LISTEN is in place, so nothing published after it is missed. */
  async subscribe(listener: Listener): Promise<() => void> {
    this.listeners.add(listener);
    try {
      await this.ensureListening();
    } catch (err) {
      this.listeners.delete(listener);
      throw err;
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) void this.stopListening();
    };
  }

  private ensureListening(): Promise<void> {
    if (this.client) return Promise.resolve();
    this.connecting ??= (async () => {
      const client = await this.pool.connect();
      const onNotification = (message: Notification): void => this.fanOut(message);
      client.on('notification', onNotification);
      const onError = (err: Error): void => {
        this.logger.warn({ err: err.message }, 'stream LISTEN connection lost');
        if (this.client === client) this.client = null;
        client.release(err);
        setTimeout(() => {
          if (this.listeners.size > 0) this.ensureListening().catch((e: unknown) => this.logger.error({ err: e }, 'stream LISTEN reconnect failed'));
        }, RECONNECT_MS).unref();
      };
      client.on('error', onError);
      // Pooled clients are reused: both listeners leave with the client, or they pile up on it.
      this.detach = () => {
        client.removeListener('notification', onNotification);
        client.removeListener('error', onError);
      };
      try {
        await client.query(`LISTEN ${STREAM_CHANNEL}`);
      } catch (err) {
        this.detach();
        client.release(err instanceof Error ? err : true);
        throw err;
      }
      this.client = client;
    })().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async stopListening(): Promise<void> {
    await this.connecting?.catch(() => undefined);
    const client = this.client;
    if (!client || this.listeners.size > 0) return;
    this.client = null;
    // This client's own: a stream opening meanwhile may connect another and replace this.detach.
    const detach = this.detach;
    try {
      await client.query(`UNLISTEN ${STREAM_CHANNEL}`);
      detach();
      client.release();
    } catch (err) {
      detach();
      client.release(err instanceof Error ? err : true);
    }
  }

  private fanOut(message: Notification): void {
    if (message.channel !== STREAM_CHANNEL || !message.payload) return;
    let event: StreamEvent;
    try {
      event = JSON.parse(message.payload) as StreamEvent;
    } catch {
      this.logger.warn('stream notification is not JSON; dropped');
      return;
    }
    for (const listener of this.listeners) listener(event);
  }
}

export interface StreamRouteDeps {
  config: Config;
  pool: Pool;
  logger: Logger;
}

function parseTopics(raw: unknown): Set<StreamTopic> | string {
  if (raw === undefined || raw === '') return new Set(streamTopics);
  if (typeof raw !== 'string') return 'topics must be a comma-separated list';
  const topics = raw.split(',').map((t) => t.trim()).filter(Boolean);
  const unknown = topics.filter((t) => !(streamTopics as readonly string[]).includes(t));
  if (unknown.length > 0) return `unknown topic(s) ${unknown.join(', ')}; known: ${streamTopics.join(', ')}`;
  return new Set(topics as StreamTopic[]);
}

/** What the stream handler shares: this process's one LISTEN connection. */
function streamContext({ config, pool, logger }: StreamRouteDeps) {
  const hub = new StreamHub(pool, logger);
  return { config, logger, hub };
}

type StreamContext = ReturnType<typeof streamContext>;
const route = defineRoute<StreamContext>();

export const stream = route({
  method: 'GET',
  path: '/stream',
  permission: 'events:read',
  summary: 'Live events (Server-Sent Events) of this tenant: webhooks, deliveries, provider health, alerts',
  tag: 'monitoring',
  query: streamQuery,
  responses: { 200: { description: 'an event stream', contentType: 'text/event-stream' }, 400: failure('unknown topic') },
  async handler(req: Request, res: Response, { config, logger, hub }) {
    const tenant = requireTenant(req, res, config);
    if (!tenant) return;
    const topics = parseTopics(req.query.topics);
    if (typeof topics === 'string') {
      sendError(res, 400, 'invalid_request', topics, { topics: topics });
      return;
    }
    let nextId = 1;
    const send = (event: string, data: unknown): void => {
      res.write(`id: ${nextId++}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    let unsubscribe: (() => void) | undefined;
    try {
      unsubscribe = await hub.subscribe((event) => {
        if (!topics.has(event.topic)) return;
        if (event.tenant !== null && event.tenant !== tenant) return;
        send(event.topic, { ...event.data, tenant: event.tenant });
      });
    } catch (err) {
      logger.error({ err }, 'stream could not LISTEN');
      sendError(res, 503, 'unavailable', 'the event stream is not available right now');
      return;
    }
    if (res.closed || req.socket.destroyed) {
      unsubscribe();
      return;
    }
    res.status(200).set({
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    res.write(`retry: 3000\n\n`);
    send('ready', { tenant, topics: [...topics] });
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    req.on('close', () => {
      clearInterval(heartbeat);
      unsubscribe?.();
    });
  },
});

export const streamRoutes = routeGroup({
  context: streamContext,
  routes: [stream],
});
