/**
 * One fake HTTP server for every provider Switchyard calls (Stripe, Twilio, Vonage, SendGrid,
 * Google Calendar, a generic httpbin-like API), each on its real paths and wire format, so every
 * provider base URL can point at the same http://127.0.0.1:<port>. Tests inject faults, read the
 * request log and assert on side effects (charges, SMS, mails, events) instead of mocking fetch.
 * The spec is /test/fakes/README.md.
 *
 * Request pipeline: read and parse → control API or provider route → fault rule (error answer,
 * reset) → idempotency replay or handler → record → answer now, later (latency) or never (timeout).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CONTROL_PREFIX, handleControlRequest, type ControlTarget } from './control-api';
import { FaultBook, faultAnswer, isErrorAnswerFault } from './faults';
import { acceptsGzip, parseRequest, readBody, sendResponse } from './http-io';
import { airtable } from './providers/airtable';
import { googleCalendar } from './providers/google-calendar';
import { googleMyBusiness } from './providers/google-my-business';
import { googleSheets } from './providers/google-sheets';
import { googleMaps } from './providers/google-maps';
import { httpEcho } from './providers/http-echo';
import { monitor } from './providers/monitor';
import { openai } from './providers/openai';
import { paypal } from './providers/paypal';
import { json, type ProviderModule, type Route } from './providers/provider-module';
import { sendgrid } from './providers/sendgrid';
import { stripe } from './providers/stripe';
import { receiveTwilioSms, twilio } from './providers/twilio';
import { vonage } from './providers/vonage-sms';
import { whatsapp } from './providers/whatsapp';
import { yandexMaps } from './providers/yandex-maps';
import { ProviderState } from './state';
import type { FakeRequest, FakeResponse, FakeState, FaultKind, FaultRule, ParsedRequest } from './types';

export type { FakeRequest, FakeState, FaultKind, FaultRule, ProviderId } from './types';
export { FAULT_KINDS, PROVIDER_IDS } from './types';

export interface FakeProviders {
  /** http://127.0.0.1:<port> */
  url: string;
  requests(filter?: { provider?: string; operation?: string }): FakeRequest[];
  /** Returns the rule's id; throws on an invalid rule. */
  addFault(rule: FaultRule): string;
  clearFaults(): void;
  state(): FakeState;
  /** Clears records, faults, state and stored idempotent responses. */
  reset(): void;
  /** TCP connections accepted since start (never reset): tests of connection reuse compare counts. */
  connections(): number;
  /** The fake Google token endpoint accepts assertions from this service account signed with the key's private half. */
  trustGoogleServiceAccount(clientEmail: string, publicKeyPem: string): void;
  /** An SMS from `from` to the account's number, as Twilio handles it: STOP, … opts the sender out (later sends: 21610), START, … back in. */
  twilioInbound(from: string, body: string): 'opted-out' | 'opted-in' | null;
  /** How long the fake Google token endpoint's tokens live from now on (default 3599 s). */
  setGoogleTokenLifetime(seconds: number): void;
  /** The records the fake Airtable holds in one table, in creation order (copies). */
  airtableRecords(baseId: string, table: string): Array<{ id: string; createdTime: string; fields: Record<string, unknown> }>;
  close(): Promise<void>;
}

// Google My Business before Sheets: both serve `/$discovery/rest` (its route takes only its own probe).
const PROVIDERS: readonly ProviderModule[] = [stripe, paypal, twilio, vonage, sendgrid, googleCalendar, googleMyBusiness, googleSheets, googleMaps, yandexMaps, httpEcho, openai, airtable, whatsapp, monitor];

interface RouteMatch {
  provider: ProviderModule;
  route: Route;
  operation: string;
  params: Record<string, string>;
}

function decodePathParam(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function matchRoute(req: ParsedRequest): RouteMatch | undefined {
  for (const provider of PROVIDERS) {
    for (const route of provider.routes) {
      if (route.method !== 'ANY' && route.method !== req.method) continue;
      const match = route.path.exec(req.path);
      if (!match || (route.accepts && !route.accepts(req))) continue;
      const params: Record<string, string> = {};
      for (const [name, value] of Object.entries(match.groups ?? {})) params[name] = decodePathParam(value);
      const operation = typeof route.operation === 'string' ? route.operation : route.operation(req);
      return { provider, route, operation, params };
    }
  }
  return undefined;
}

class RequestLog {
  private records: FakeRequest[] = [];
  private nextSeq = 1;

  add(record: Omit<FakeRequest, 'seq'>): void {
    this.records.push({ seq: this.nextSeq++, ...record });
  }

  /** Copies, so a test cannot change the log by mutating what it got. */
  list(filter: { provider?: string; operation?: string } = {}): FakeRequest[] {
    return structuredClone(
      this.records.filter(
        (r) => (filter.provider === undefined || r.provider === filter.provider) && (filter.operation === undefined || r.operation === filter.operation),
      ),
    );
  }

  /** `restartSeq` only on a full reset; clearing records alone keeps seq increasing. */
  clear(restartSeq = false): void {
    this.records = [];
    if (restartSeq) this.nextSeq = 1;
  }
}

/** Everything the server knows; one per startFakeProviders call. */
class FakeProviderHub implements ControlTarget {
  readonly faults = new FaultBook();
  private readonly providerState = new ProviderState();
  private readonly log = new RequestLog();
  /** First answer per `${provider} ${Idempotency-Key}` (POST only). */
  private readonly idempotentAnswers = new Map<string, FakeResponse>();
  /** Answers held back by latency faults; cancelled on close. */
  private readonly delayedAnswers = new Set<NodeJS.Timeout>();
  /** Answers held by each `hold` fault until its `times` requests have arrived. */
  private readonly heldAnswers = new Map<FaultRule, { send: Array<() => void>; timer: NodeJS.Timeout }>();

  requests(filter?: { provider?: string; operation?: string }): FakeRequest[] {
    return this.log.list(filter);
  }

  trustGoogleServiceAccount(clientEmail: string, publicKeyPem: string): void {
    this.providerState.googleServiceAccounts.set(clientEmail, publicKeyPem);
  }

  airtableRecords(baseId: string, table: string): Array<{ id: string; createdTime: string; fields: Record<string, unknown> }> {
    return structuredClone(this.providerState.airtableRecords.get(`${baseId}/${table}`) ?? []);
  }

  twilioInbound(from: string, body: string): 'opted-out' | 'opted-in' | null {
    return receiveTwilioSms(this.providerState, from, body);
  }

  setGoogleTokenLifetime(seconds: number): void {
    this.providerState.googleTokenLifetimeSeconds = seconds;
  }

  clearRequests(): void {
    this.log.clear();
  }

  state(): FakeState {
    return this.providerState.summary();
  }

  reset(): void {
    this.log.clear(true);
    this.faults.clear();
    this.providerState.clear();
    this.idempotentAnswers.clear();
  }

  cancelDelayedAnswers(): void {
    for (const timer of this.delayedAnswers) clearTimeout(timer);
    this.delayedAnswers.clear();
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parsed = parseRequest(req, await readBody(req));
    if (parsed.path.startsWith(CONTROL_PREFIX)) {
      sendResponse(res, handleControlRequest(parsed, this));
      return;
    }
    const match = matchRoute(parsed);
    if (!match) {
      sendResponse(res, json(404, { error: `the fake providers have no route for ${parsed.method} ${parsed.path}` }));
      return;
    }

    const idempotencyKey = parsed.headers[match.provider.idempotencyHeader ?? 'idempotency-key'] ?? null;
    // Provider answers are gzipped for clients that ask, as the real APIs do.
    const gzip = acceptsGzip(parsed.headers);
    const at = new Date().toISOString();
    const record = (status: number | null, replayed: boolean, fault: FaultKind | null): void =>
      this.log.add({
        at,
        provider: match.provider.id,
        operation: match.operation,
        method: parsed.method,
        path: parsed.path,
        query: parsed.query,
        headers: parsed.headers,
        body: parsed.body,
        idempotencyKey,
        replayed,
        status,
        fault,
      });

    const fault = this.faults.take(match.provider.id, match.operation);
    if (fault?.kind === 'reset') {
      record(null, false, 'reset');
      req.socket.destroy();
      return;
    }
    if (fault && isErrorAnswerFault(fault.kind)) {
      // Not processed and not stored under the idempotency key: a retry with the same key must
      // reach the provider, as it would after a real outage.
      const answer = faultAnswer(fault, match.provider.faultBodies, parsed, match.operation);
      record(answer.status, false, fault.kind);
      sendResponse(res, answer, { gzip });
      return;
    }

    const { answer, replayed } = this.process(match, parsed, idempotencyKey);
    if (fault?.kind === 'timeout') {
      // Processed, then silence: the socket stays open until the client gives up (or close()).
      record(null, replayed, 'timeout');
      return;
    }
    record(answer.status, replayed, fault?.kind ?? null);
    if (fault?.kind === 'latency') {
      const timer = setTimeout(() => {
        this.delayedAnswers.delete(timer);
        sendResponse(res, answer, { gzip });
      }, fault.latencyMs ?? 0);
      this.delayedAnswers.add(timer);
      return;
    }
    if (fault?.kind === 'hold') {
      this.hold(fault, () => sendResponse(res, answer, { gzip }));
      return;
    }
    sendResponse(res, answer, { gzip });
  }

  /**
   * A `hold` fault's answers go out together once its `times` requests have arrived (each was
   * processed on arrival), so they all saw the same state however far apart they came; or after
   * `latencyMs` (default 30 s) if the rest never come.
   */
  private hold(rule: FaultRule, send: () => void): void {
    const release = (): void => {
      const held = this.heldAnswers.get(rule);
      if (!held) return;
      this.heldAnswers.delete(rule);
      clearTimeout(held.timer);
      this.delayedAnswers.delete(held.timer);
      for (const answer of held.send) answer();
    };
    let held = this.heldAnswers.get(rule);
    if (!held) {
      held = { send: [], timer: setTimeout(release, rule.latencyMs ?? 30_000) };
      this.delayedAnswers.add(held.timer);
      this.heldAnswers.set(rule, held);
    }
    held.send.push(send);
    if (held.send.length >= rule.times!) release();
  }

  /** The provider's answer: the stored one for a repeated Idempotency-Key, else the handler's. */
  private process(match: RouteMatch, parsed: ParsedRequest, idempotencyKey: string | null): { answer: FakeResponse; replayed: boolean } {
    const storeKey = parsed.method === 'POST' && idempotencyKey !== null ? `${match.provider.id} ${idempotencyKey}` : undefined;
    const stored = storeKey === undefined ? undefined : this.idempotentAnswers.get(storeKey);
    if (stored) {
      return { answer: { ...stored, headers: { ...stored.headers, 'Idempotent-Replayed': 'true' } }, replayed: true };
    }
    let answer: FakeResponse;
    try {
      answer = match.route.handle(parsed, match.params, this.providerState);
    } catch (err) {
      // A bug in the fake itself; surfaced as a 500 so the test shows it, never stored.
      return { answer: json(500, { error: 'fake provider handler failed', message: err instanceof Error ? err.message : String(err) }), replayed: false };
    }
    // A rejected credential is answered before the provider's idempotency layer, so a retry with
    // fixed credentials and the same key is processed.
    if (storeKey !== undefined && answer.status !== 401) this.idempotentAnswers.set(storeKey, answer);
    return { answer, replayed: false };
  }
}

function urlFor(address: AddressInfo): string {
  // A wildcard listener is reached through loopback.
  const host = address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

export async function startFakeProviders(options: { port?: number; host?: string } = {}): Promise<FakeProviders> {
  const hub = new FakeProviderHub();
  const server: Server = createServer((req, res) => {
    hub.handle(req, res).catch((err: unknown) => {
      // Reading the body failed (client went away) or a bug: answer if still possible.
      if (res.headersSent) res.destroy();
      else sendResponse(res, json(500, { error: 'fake provider server failed', message: err instanceof Error ? err.message : String(err) }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const url = urlFor(server.address() as AddressInfo);
  let connections = 0;
  server.on('connection', () => {
    connections++;
  });
  let closing: Promise<void> | undefined;

  return {
    url,
    requests: (filter) => hub.requests(filter),
    addFault: (rule) => hub.faults.add(rule),
    clearFaults: () => hub.faults.clear(),
    state: () => hub.state(),
    reset: () => hub.reset(),
    connections: () => connections,
    trustGoogleServiceAccount: (clientEmail, publicKeyPem) => hub.trustGoogleServiceAccount(clientEmail, publicKeyPem),
    setGoogleTokenLifetime: (seconds) => hub.setGoogleTokenLifetime(seconds),
    airtableRecords: (baseId, table) => hub.airtableRecords(baseId, table),
    twilioInbound: (from, body) => hub.twilioInbound(from, body),
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        hub.cancelDelayedAnswers();
        // Held-open (timeout fault) and keep-alive sockets would otherwise keep close() waiting.
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      });
      return closing;
    },
  };
}
