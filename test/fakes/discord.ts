/**
 * Fake Discord execute-webhook endpoint (`POST /api[/v10]/webhooks/{id}/{token}`), for the Discord
 * alert channel: Discord's validation (an empty message or over-long content is a 400), its
 * answers (204, or 200 with the message for `?wait=true`) and its rate limiting. A `rate-limit`
 * fault answers 429 with Discord's body `{"message": "You are being rate limited.", "retry_after":
 * 1.5, "global": false}` and headers (`Retry-After`, `X-RateLimit-*`), and the webhook then stays
 * limited for that long: a request arriving sooner gets another 429 and is counted in
 * `earlyRetries`, so a test can show the client waited. Delivered messages are kept per webhook.
 * Own server on its own port (not part of provider-server.ts): Discord is an alert channel, not a
 * provider Switchyard calls through the registry.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { flattenHeaders, readBody } from './http-io';
import { randomString } from './random-ids';

export type DiscordFault =
  | {
      kind: 'rate-limit';
      /** Seconds, fractional like Discord's. */
      retryAfterSeconds: number;
      /** Where the wait is told: the JSON body's `retry_after`, the `Retry-After` header, or both (Discord's way, the default). */
      via?: 'body' | 'header' | 'both';
      global?: boolean;
      /** Only this webhook id (default: every webhook). */
      webhookId?: string;
      /** How many requests it answers (default 1). */
      times?: number;
    }
    | { kind: 'status'; status: number; webhookId?: string; times?: number };

export interface DiscordRequestRecord {
  at: number;
  webhookId: string;
  token: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: unknown;
  status: number;
  /** Answered 429 because it came before the previous 429's retry_after had passed. */
  early: boolean;
}

export interface DiscordMessage {
  id: string;
  webhookId: string;
  at: number;
  content: string | null;
  embeds: unknown[];
  body: Record<string, unknown>;
}

export interface FakeDiscord {
  /** http://127.0.0.1:<port> */
  url: string;
  /** A webhook URL on this fake (random id and token unless given). */
  webhookUrl(id?: string, token?: string): string;
  /** Delivered messages, oldest first. */
  messages(webhookId?: string): DiscordMessage[];
  /** Every request to a webhook path, with its answer. */
  requests(webhookId?: string): DiscordRequestRecord[];
  addFault(fault: DiscordFault): void;
  /** Requests that came while their webhook was still rate limited. */
  earlyRetries(): number;
  reset(): void;
  close(): Promise<void>;
}

const WEBHOOK_PATH = /^\/api(?:\/v\d+)?\/webhooks\/(?<id>\d+)\/(?<token>[A-Za-z0-9_-]+)\/?$/;
const MAX_CONTENT = 2000;
const MAX_EMBEDS = 10;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export async function startFakeDiscord(): Promise<FakeDiscord> {
  let records: DiscordRequestRecord[] = [];
  let delivered: DiscordMessage[] = [];
  let faults: Array<DiscordFault & { remaining: number }> = [];
  /** Per webhook id (or 'global'): until when it answers 429, and the scope it said. */
  let limitedUntil = new Map<string, number>();

  const server: Server = createServer((req, res) => {
    void (async () => {
      const text = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://fake');
      const match = WEBHOOK_PATH.exec(url.pathname);
      const send = (status: number, body?: unknown, headers: Record<string, string> = {}): number => {
        const payload = body === undefined ? '' : JSON.stringify(body);
        res.writeHead(status, { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers });
        res.end(payload);
        return status;
      };
      if (req.method !== 'POST' || !match?.groups) {
        send(404, { message: '404: Not Found', code: 0 });
        return;
      }
      const { id: webhookId, token } = match.groups as { id: string; token: string };
      let body: unknown = null;
      try {
        body = text === '' ? null : (JSON.parse(text) as unknown);
      } catch {
        body = text;
      }
      const record: DiscordRequestRecord = {
        at: Date.now(),
        webhookId,
        token,
        query: Object.fromEntries(url.searchParams),
        headers: flattenHeaders(req.headers),
        body,
        status: 0,
        early: false,
      };
      records.push(record);

      const rateLimited = (seconds: number, via: 'body' | 'header' | 'both', global: boolean): number => {
        const rounded = Math.round(seconds * 1000) / 1000;
        limitedUntil.set(global ? 'global' : webhookId, Date.now() + seconds * 1000);
        const headers: Record<string, string> = {
          'X-RateLimit-Limit': '5',
          'X-RateLimit-Remaining': '0',
          'X-RateLimit-Reset': String(Math.ceil(Date.now() / 1000 + seconds)),
          'X-RateLimit-Reset-After': String(rounded),
          'X-RateLimit-Bucket': `bucket-${webhookId}`,
          'X-RateLimit-Scope': global ? 'global' : 'user',
          ...(global ? { 'X-RateLimit-Global': 'true' } : {}),
        };
        // Discord's header is whole seconds (rounded up); the body carries the precise value.
        if (via !== 'body') headers['Retry-After'] = String(Math.ceil(seconds));
        const answer: Record<string, unknown> = { message: 'You are being rate limited.', global };
        if (via !== 'header') answer.retry_after = rounded;
        return send(429, answer, headers);
      };

      // Still limited from an earlier 429: the client did not wait long enough.
      const until = Math.max(limitedUntil.get(webhookId) ?? 0, limitedUntil.get('global') ?? 0);
      if (until > Date.now()) {
        record.early = true;
        record.status = rateLimited((until - Date.now()) / 1000, 'both', (limitedUntil.get('global') ?? 0) === until);
        return;
      }
      const fault = faults.find((f) => f.webhookId === undefined || f.webhookId === webhookId);
      if (fault) {
        fault.remaining--;
        if (fault.remaining <= 0) faults = faults.filter((f) => f !== fault);
        record.status =
          fault.kind === 'rate-limit'
            ? rateLimited(fault.retryAfterSeconds, fault.via ?? 'both', fault.global ?? false)
            : send(fault.status, { message: fault.status >= 500 ? 'Internal Server Error' : 'Fault', code: 0 });
        return;
      }
      if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json') || !isRecord(body)) {
        record.status = send(400, { message: 'Cannot send an empty message', code: 50006 });
        return;
      }
      const content = typeof body.content === 'string' ? body.content : null;
      const embeds = Array.isArray(body.embeds) ? (body.embeds as unknown[]) : [];
      if ((content === null || content === '') && embeds.length === 0) {
        record.status = send(400, { message: 'Cannot send an empty message', code: 50006 });
        return;
      }
      if ((content?.length ?? 0) > MAX_CONTENT || embeds.length > MAX_EMBEDS) {
        const field = embeds.length > MAX_EMBEDS ? 'embeds' : 'content';
        record.status = send(400, {
          code: 50035,
          errors: { [field]: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${field === 'content' ? MAX_CONTENT : MAX_EMBEDS} or fewer in length.` }] } },
          message: 'Invalid Form Body',
        });
        return;
      }
      const message: DiscordMessage = { id: randomString(18, '0123456789'), webhookId, at: Date.now(), content, embeds, body };
      delivered.push(message);
      record.status =
        url.searchParams.get('wait') === 'true'
          ? send(200, { id: message.id, type: 0, content: content ?? '', embeds, webhook_id: webhookId, channel_id: '1', timestamp: new Date(message.at).toISOString() })
          : send(204);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: base,
    webhookUrl: (id = randomString(18, '0123456789'), token = randomString(68)) => `${base}/api/webhooks/${id}/${token}`,
    messages: (webhookId) => delivered.filter((m) => webhookId === undefined || m.webhookId === webhookId),
    requests: (webhookId) => records.filter((r) => webhookId === undefined || r.webhookId === webhookId),
    addFault(fault) {
      faults.push({ ...fault, remaining: fault.times ?? 1 });
    },
    earlyRetries: () => records.filter((r) => r.early).length,
    reset() {
      records = [];
      delivered = [];
      faults = [];
      limitedUntil = new Map();
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
