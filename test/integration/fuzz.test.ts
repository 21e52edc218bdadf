/**
 * Bad-input fuzzing (property tests with fast-check) against the real app on the real Temporal dev
 * server and PostgreSQL: every webhook source and scheme, and every service route, get arbitrary
 * bodies (JSON, not JSON, random bytes, invalid UTF-8, empty, over the limit), hostile headers
 * (content type and encoding, signature headers with random values), random path segments,
 * tenants and query strings. Properties: never a 5xx (the only 5xx the API documents here is 503
 * "not_configured" for a tenant without secrets; Temporal is up, so no 503 "temporal_unavailable"),
 * the server keeps answering /healthz, and only requests that verified (or, on the service API,
 * were answered 2xx) started a workflow on this test's task queue or wrote a ledger row: checked
 * on the server's own visibility and in the ledger table, not on a mock.
 *
 * Reproducing a failure: fast-check prints the seed and path; run again with FUZZ_SEED=<seed>
 * (and FUZZ_PATH=<path>). FUZZ_RUNS scales the number of runs.
 */
import { createHmac, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import type { Pool } from 'pg';
import { Webhook } from 'standardwebhooks';
import twilio from 'twilio';
import { serviceRoutes as declaredRoutes } from '../../api/access';
import { parseTwilioForm } from '../../providers/twilio/webhook';
import type { Config } from '../../lib/config/config';
import { eventually, startStack, type RunningApi, type TestStack } from '../support/harness';
import { expressRoutes } from '../support/express-routes';

const runs = Number(process.env.FUZZ_RUNS ?? '1');
const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const fuzzParameters = (numRuns: number): fc.Parameters<unknown> => ({
  numRuns: Math.max(1, Math.round(numRuns * runs)),
  ...(seed === undefined ? {} : { seed, path: process.env.FUZZ_PATH }),
  endOnFailure: true,
});
const testTimeoutMs = 60_000 * Math.max(1, runs);

/** Small so "over the limit" stays cheap; the route reads the limit from the config. */
const WEBHOOK_LIMIT = 8192;

let stack: TestStack;
let pool: Pool;
let config: Config;
let api: RunningApi;
let secretsDir: string;
/** A second tenant with secrets, reached under /tenants/:tenant. */
let otherTenant: string;

const sendgridKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const secrets = {
  stripe: `whsec_${randomBytes(16).toString('hex')}`,
  twilio: randomBytes(16).toString('hex'),
  sendgrid: sendgridKeys.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
  standard: `whsec_${randomBytes(24).toString('base64')}`,
  github: randomBytes(16).toString('hex'),
  'google-calendar': randomBytes(16).toString('hex'),
  'generic:example': randomBytes(16).toString('hex'),
  'generic:shopify': randomBytes(16).toString('hex'),
} as const;
type SourceName = keyof typeof secrets;
const sourceNames = Object.keys(secrets) as SourceName[];

/** Workflow ids the API answered 2xx with: the only ones allowed to exist on this task queue. */
const acknowledged = new Set<string>();
/** Tenants whose ledger rows are checked at the end (every valid tenant name the fuzz used). */
const tenantsSeen = new Set<string>();

beforeAll(async () => {
  ({ pool, config, api } = stack = await startStack({
    config: { WEBHOOK_BODY_LIMIT_BYTES: WEBHOOK_LIMIT, CALL_WAIT_MS: 100, RATE_LIMIT_PER_KEY_PER_MINUTE: 0, RATE_LIMIT_PER_IP_PER_MINUTE: 0 }, // limits off: every run reaches its route
    api: (started) => {
      const tenant = started.config.DEFAULT_TENANT;
      otherTenant = `${tenant}-b`;
      tenantsSeen.add(tenant).add(otherTenant);
      secretsDir = mkdtempSync(path.join(tmpdir(), 'switchyard-fuzz-'));
      const secretsFile = path.join(secretsDir, 'secrets.json');
      const perSource = Object.fromEntries(sourceNames.map((name) => [name, [{ secret: secrets[name] }]]));
      writeFileSync(secretsFile, JSON.stringify({ [tenant]: perSource, [otherTenant]: perSource }));
      return { secretsFile, secretsEnv: {} };
    },
  }));
});

afterAll(async () => {
  await stack?.close();
  if (secretsDir) rmSync(secretsDir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  body: Buffer;
  json: unknown;
}

interface RawRequest {
  method: string;
  path: string;
  headers: OutgoingHttpHeaders;
  body?: Buffer;
}

/**
 * node:http rather than fetch: any header value, any path bytes, no body normalisation. A new
 * connection per request (no keep-alive pool), so one case cannot leave a socket that fails the next.
 * Status 0: the server closed the connection before answering (only expected for bodies over a limit).
 */
function send({ method, path: requestPath, headers, body }: RawRequest): Promise<Answer> {
  const { hostname, port } = new URL(api.url);
  return new Promise((resolve, reject) => {
    let answered = false;
    // Framed explicitly: node:http sends a GET or DELETE body unframed, which the server would read as a second request.
    const framed = body === undefined ? headers : { ...headers, 'content-length': body.length };
    const req = httpRequest({ hostname, port, method, path: requestPath, headers: framed, agent: false, timeout: 30_000 }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      // An event stream stays open: its status is all this test needs.
      if ((res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
        resolve({ status: res.statusCode ?? 0, body: Buffer.alloc(0), json: undefined });
        res.destroy();
        return;
      }
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks);
        let json: unknown;
        try {
          json = JSON.parse(text.toString('utf8'));
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body: text, json });
      });
      // The server may answer without reading a large body and close: the status has arrived.
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), json: undefined }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${requestPath} timed out`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (answered) return;
      if (err.code === 'EPIPE' || err.code === 'ECONNRESET') resolve({ status: 0, body: Buffer.from(err.code), json: undefined });
      else reject(err);
    });
    req.end(body);
  });
}

async function expectAlive(): Promise<void> {
  const res = await send({ method: 'GET', path: '/healthz', headers: {} });
  expect(res.status).toBe(200);
}

/** Collects every workflow id a 2xx answer names (calls, bookings, batches, webhooks, deliveries). */
function recordAcknowledged(json: unknown): void {
  if (typeof json !== 'object' || json === null) return;
  const answer = json as Record<string, unknown>;
  for (const key of ['workflowId', 'batchId', 'deliveryId']) if (typeof answer[key] === 'string') acknowledged.add(answer[key]);
  if (Array.isArray(answer.events)) for (const event of answer.events as Array<{ workflowId?: unknown }>) recordAcknowledged(event);
  if (Array.isArray(answer.deliveries)) for (const id of answer.deliveries) if (typeof id === 'string') acknowledged.add(id);
}

/**
 * Every workflow on this test's task queue was named by a 2xx answer (or is the child of one, such
 * as a subscriber delivery or a batch's provider call); every ledger row of the tenants used
 * belongs to such a workflow. Visibility is eventually consistent: the listing waits for it.
 */
async function expectOnlyAcknowledgedWork(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const unexpected: string[] = [];
  for await (const wf of api.workflows.list({ query: `TaskQueue = '${config.TEMPORAL_TASK_QUEUE}'` })) {
    // The fuzzer's bad signatures are meant to raise this alert (webhook-hardening.test.ts tests it).
    if (wf.type === 'alert' && wf.workflowId.startsWith('alert:webhook-signature-failures:')) continue;
    const ancestors = [wf.parentExecution?.workflowId, wf.rootExecution?.workflowId];
    if (![wf.workflowId, ...ancestors].some((id) => typeof id === 'string' && acknowledged.has(id))) unexpected.push(`${wf.type} ${wf.workflowId}`);
  }
  expect(unexpected).toEqual([]);
  const { rows } = await pool.query<{ workflow_id: string }>('SELECT workflow_id FROM webhook_events WHERE tenant = ANY($1)', [[...tenantsSeen]]);
  expect(rows.map((r) => r.workflow_id).filter((id) => !acknowledged.has(id))).toEqual([]);
}

// ---------------------------------------------------------------------------------------------
// Arbitraries shared by both properties
// ---------------------------------------------------------------------------------------------

/** Characters node:http lets through in a header value: tab, printable ASCII, and Latin-1 bytes. */
const headerChar = fc.oneof(
  fc.integer({ min: 0x20, max: 0x7e }),
  fc.integer({ min: 0x80, max: 0xff }),
  fc.constant(0x09),
).map((code) => String.fromCharCode(code));
const headerValue = fc.oneof(
  fc.string({ unit: headerChar, maxLength: 80 }),
  fc.constantFrom('', ' ', 't=,v1=', 'sha256=', 'v1,', 'null', '0', '-1', '99999999999999999999', 'a'.repeat(4000), '\u00ff\u00fe', 'v1,====', 't=1,v1=00'),
);

const invalidUtf8 = fc.constantFrom(
  Buffer.from([0xff, 0xfe, 0xfd]),
  Buffer.from([0xc3, 0x28]),
  Buffer.from([0xe2, 0x82]),
  Buffer.from('{"id":"evt_\xff","type":"x"}', 'latin1'),
  Buffer.from([0xed, 0xa0, 0x80]),
  Buffer.from([0x00, 0x00, 0x00]),
  Buffer.from('{"id":"a\u0000b","type":"t\u0000"}'),
);

const jsonText = fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null');

/** Bodies that look like what the providers send, with random ids, types and fields. */
const eventId = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_.:-]{1,40}$/), fc.string({ maxLength: 300 }));
const eventType = fc.oneof(fc.constantFrom('payment_intent.succeeded', 'customer.created', 'delivered', 'push', ''), fc.string({ maxLength: 40 }));
const eventLike = fc.oneof(
  fc.record({ id: eventId, type: eventType, object: fc.constant('event'), data: fc.record({ object: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })) }) }, { requiredKeys: [] }),
  // Valid JSON PostgreSQL cannot store: NUL and unpaired surrogates, as values and as keys.
  fc
    .record({ id: eventId, type: eventType, data: fc.record({ object: fc.dictionary(fc.oneof(fc.string({ unit: 'binary', maxLength: 4 }), fc.constantFrom('\u0000', '\ud800')), fc.oneof(fc.string({ unit: 'binary', maxLength: 6 }), fc.constantFrom('a\u0000', '\udc00x', '\ud83d\ude00'))) }) })
    .map((v) => ({ ...v, object: 'event' })),
  fc.array(fc.record({ sg_event_id: eventId, event: eventType, email: fc.string({ maxLength: 20 }) }, { requiredKeys: [] }), { maxLength: 4 }),
  fc.record({ action: fc.string({ maxLength: 10 }), id: fc.oneof(eventId, fc.integer(), fc.constant(null)), type: fc.oneof(eventType, fc.integer()) }, { requiredKeys: [] }),
).map((v) => JSON.stringify(v));
const formLike = fc
  .array(fc.tuple(fc.constantFrom('MessageSid', 'SmsSid', 'CallSid', 'MessageStatus', 'CallStatus', '__proto__', 'x'), fc.string({ maxLength: 30 })), { maxLength: 6 })
  .map((pairs) => new URLSearchParams(pairs).toString());

const smallBody: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 3, arbitrary: eventLike.map((s) => Buffer.from(s)) },
  { weight: 2, arbitrary: jsonText.map((s) => Buffer.from(s)) },
  { weight: 1, arbitrary: formLike.map((s) => Buffer.from(s)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 100 }).map((s) => Buffer.from(s)) },
  { weight: 1, arbitrary: invalidUtf8 },
  { weight: 1, arbitrary: fc.constantFrom(Buffer.alloc(0), Buffer.from('{}'), Buffer.from('[]'), Buffer.from('null'), Buffer.from('"x"'), Buffer.from('{"id":')) },
);

/** Over a limit: a JSON-looking prefix, then padding. */
const hugeBody = (limit: number) =>
  fc.integer({ min: 1, max: 4096 }).map((extra) => Buffer.concat([Buffer.from('{"id":"evt_big","type":"x","pad":"'), Buffer.alloc(limit + extra, 0x61), Buffer.from('"}')]));

const contentEncoding = fc.option(fc.oneof(fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'compress', 'gzip, deflate', 'x-unknown'), headerValue), { nil: undefined, freq: 4 });

/** Path segments: valid-looking ids, arbitrary text (encoded), and raw escapes Express must refuse gracefully. */
const rawHostileSegment = fc.constantFrom('%', '%zz', '%00', 'x%00', '%00%00', '%ff', '%c3%28', '%2e%2e', '..', '%2F', '%252F', 'a%00b', '%E2%82', '%ED%A0%80', '%C3%BF');
const segment = fc.oneof(
  { weight: 3, arbitrary: fc.stringMatching(/^[A-Za-z0-9_.:-]{1,30}$/) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).map(encodeURIComponent) },
  { weight: 2, arbitrary: rawHostileSegment },
  { weight: 1, arbitrary: fc.string({ minLength: 300, maxLength: 600 }).map(encodeURIComponent) },
);

const queryString = fc
  .array(
    fc.tuple(
      fc.oneof(fc.constantFrom('wait', 'since', 'prefix', 'provider', 'type', 'status', 'from', 'to', 'limit', 'subscriber', 'window', 'state', 'topics', 'tenant', '__proto__', 'wait[]', 'limit[a]'), fc.string({ maxLength: 8 }).map(encodeURIComponent)),
      fc.oneof(
        fc.constantFrom('', '0', '-1', '1e9', 'NaN', '2020-01-01T00:00:00Z', 'not-a-date', 'stripe', 'completed', 'hourly', 'webhook,alert', 'nope', '99999999999999999999999'),
        fc.string({ maxLength: 30 }).map(encodeURIComponent),
        rawHostileSegment,
      ),
    ),
    { maxLength: 4 },
  )
  .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`));

const extraHeaders = fc.dictionary(
  fc.oneof(fc.constantFrom('x-forwarded-for', 'x-forwarded-proto', 'accept', 'accept-encoding', 'user-agent', 'expect', 'transfer-encoding-x', 'x-request-id', 'cookie', 'authorization'), fc.stringMatching(/^x-fuzz-[a-z0-9-]{1,20}$/)),
  headerValue,
  { maxKeys: 3 },
);

/** Express answers these for some errors as it should (e.g. a body with no route): all 4xx. */
function expectNo5xx(res: Answer, context: unknown, allowed: (res: Answer) => boolean = () => false): void {
  if (res.status >= 500 && !allowed(res)) {
    throw new Error(`answered ${res.status} ${res.body.toString('utf8').slice(0, 300)} for ${JSON.stringify(context, (_k, v: unknown) => (typeof v === 'string' && v.length > 200 ? `${v.slice(0, 200)}…` : v))}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Webhooks
// ---------------------------------------------------------------------------------------------

type Signing = 'valid' | 'none' | 'random' | 'tampered-signature' | 'body-changed' | 'wrong-secret' | 'stale';

interface WebhookCase {
  source: SourceName | { unknown: string };
  tenant: { kind: 'default' } | { kind: 'other' } | { kind: 'path'; segment: string };
  body: Buffer;
  contentType: string | undefined;
  contentEncoding: string | undefined;
  signing: Signing;
  randomSignatureHeaders: Record<string, string>;
  extra: Record<string, string>;
  query: string;
  eventHeaders: { id: string; type: string; messageNumber: string; resourceState: string };
}

const nativeContentType: Record<SourceName, string | undefined> = {
  stripe: 'application/json',
  twilio: 'application/x-www-form-urlencoded',
  sendgrid: 'application/json',
  standard: 'application/json',
  github: 'application/json',
  'google-calendar': undefined,
  'generic:example': 'application/json',
  'generic:shopify': 'application/json',
};

const signatureHeaderNames = [
  'stripe-signature',
  'x-twilio-signature',
  'x-twilio-email-event-webhook-signature',
  'x-twilio-email-event-webhook-timestamp',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'x-hub-signature-256',
  'x-github-delivery',
  'x-github-event',
  'x-goog-channel-token',
  'x-goog-channel-id',
  'x-goog-message-number',
  'x-goog-resource-state',
  'x-signature',
  'x-timestamp',
  'x-shopify-hmac-sha256',
  'x-shopify-webhook-id',
];

const webhookCase: fc.Arbitrary<WebhookCase> = fc.record({
  source: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...sourceNames) }, { weight: 1, arbitrary: segment.map((unknown) => ({ unknown })) }),
  tenant: fc.oneof(
    { weight: 4, arbitrary: fc.constant({ kind: 'default' as const }) },
    { weight: 2, arbitrary: fc.constant({ kind: 'other' as const }) },
    { weight: 1, arbitrary: segment.map((s) => ({ kind: 'path' as const, segment: s })) },
  ),
  body: fc.oneof({ weight: 9, arbitrary: smallBody }, { weight: 1, arbitrary: hugeBody(WEBHOOK_LIMIT) }),
  contentType: fc.oneof(
    { weight: 6, arbitrary: fc.constant(undefined) }, // the source's own
    { weight: 1, arbitrary: fc.constantFrom('text/plain', 'APPLICATION/JSON', 'application/json; charset=utf-16', 'application/x-www-form-urlencoded; charset=latin1', 'multipart/form-data; boundary=x', 'application/json;;', '') },
    { weight: 1, arbitrary: headerValue },
  ),
  contentEncoding,
  signing: fc.constantFrom<Signing>('valid', 'valid', 'valid', 'none', 'random', 'tampered-signature', 'body-changed', 'wrong-secret', 'stale'),
  randomSignatureHeaders: fc.dictionary(fc.constantFrom(...signatureHeaderNames), headerValue, { maxKeys: 4 }),
  extra: extraHeaders,
  query: fc.oneof({ weight: 4, arbitrary: fc.constant('') }, { weight: 1, arbitrary: queryString }),
  eventHeaders: fc.record({
    id: eventId.map((s) => s.replace(/[^\t\x20-\x7e]/g, '')),
    type: fc.constantFrom('push', 'pull_request', 'ping', 'x'),
    messageNumber: fc.oneof(fc.stringMatching(/^\d{1,20}$/), fc.constantFrom('', '-1', 'x')),
    resourceState: fc.oneof(fc.constantFrom('sync', 'exists', 'not_exists'), fc.stringMatching(/^[a-z_]{0,70}$/)),
  }),
});

function hmac(algorithm: 'sha256' | 'sha1', secret: string, ...parts: Buffer[]): Buffer {
  const mac = createHmac(algorithm, secret);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/** The headers a provider would send for `body` at `url`, signed with `secret` at `timestamp`. */
function signatureHeaders(source: SourceName, body: Buffer, url: string, secret: string, timestamp: number, ids: WebhookCase['eventHeaders']): Record<string, string> {
  const ts = String(timestamp);
  switch (source) {
    case 'stripe':
      return { 'stripe-signature': `t=${ts},v1=${hmac('sha256', secret, Buffer.from(`${ts}.`), body).toString('hex')}` };
    case 'twilio':
      return { 'x-twilio-signature': twilio.getExpectedTwilioSignature(secret, url, parseTwilioForm(body)) };
    case 'sendgrid': {
      // The "secret" of a SendGrid source is the public key: the test signs with the matching private key.
      const key = secret === secrets.sendgrid ? sendgridKeys.privateKey : generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
      return {
        'x-twilio-email-event-webhook-signature': sign('sha256', Buffer.concat([Buffer.from(ts), body]), key).toString('base64'),
        'x-twilio-email-event-webhook-timestamp': ts,
      };
    }
    case 'standard': {
      const id = ids.id || 'msg_1';
      return { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': new Webhook(secret).sign(id, new Date(timestamp * 1000), body.toString('utf8')) };
    }
    case 'github':
      return { 'x-hub-signature-256': `sha256=${hmac('sha256', secret, body).toString('hex')}`, 'x-github-delivery': ids.id, 'x-github-event': ids.type };
    case 'google-calendar':
      return { 'x-goog-channel-token': secret, 'x-goog-channel-id': ids.id, 'x-goog-message-number': ids.messageNumber, 'x-goog-resource-state': ids.resourceState };
    case 'generic:example':
      return { 'x-timestamp': ts, 'x-signature': `sha256=${hmac('sha256', secret, Buffer.from(`${ts}.`), body).toString('hex')}` };
    case 'generic:shopify':
      return { 'x-shopify-hmac-sha256': hmac('sha256', secret, body).toString('base64'), 'x-shopify-webhook-id': ids.id };
  }
}

/** The header that carries the proof (a changed last character no longer verifies). */
const proofHeader: Record<SourceName, string> = {
  stripe: 'stripe-signature',
  twilio: 'x-twilio-signature',
  sendgrid: 'x-twilio-email-event-webhook-signature',
  standard: 'webhook-signature',
  github: 'x-hub-signature-256',
  'google-calendar': 'x-goog-channel-token',
  'generic:example': 'x-signature',
  'generic:shopify': 'x-shopify-hmac-sha256',
};

/** How each source's proof is written: its last data character is changed in value below. */
const proofEncoding: Record<SourceName, 'hex' | 'base64' | 'text'> = {
  stripe: 'hex',
  twilio: 'base64',
  sendgrid: 'base64',
  standard: 'base64',
  github: 'hex',
  'google-calendar': 'text',
  'generic:example': 'hex',
  'generic:shopify': 'base64',
};
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * The proof with its last data character changed in value. Not a case change (hex is
 * case-insensitive: 'a' → 'A' names the same byte) and not the base64 padding (a decoder stops
 * there, so '==' → '=A' is the same signature): a CI run was accepted each way. The top bit of
 * the character's value flips, which every decoder keeps.
 */
function flipLast(value: string, encoding: 'hex' | 'base64' | 'text'): string {
  const at = encoding === 'base64' ? value.replace(/=+$/, '').length - 1 : value.length - 1;
  if (at < 0) return `${value}A`;
  const c = value[at]!;
  let swapped: string;
  if (encoding === 'hex' && /[0-9a-f]/i.test(c)) swapped = (parseInt(c, 16) ^ 8).toString(16);
  else if (encoding === 'base64' && BASE64.includes(c)) swapped = BASE64[BASE64.indexOf(c) ^ 32]!;
  else swapped = c === '0' ? '1' : '0';
  return `${value.slice(0, at)}${swapped}${value.slice(at + 1)}`;
}

function webhookRequest(c: WebhookCase): { request: RawRequest; tenant: string | undefined; mayAccept: boolean } {
  const tenantPrefix = c.tenant.kind === 'default' ? '' : `/tenants/${c.tenant.kind === 'other' ? otherTenant : c.tenant.segment}`;
  const tenant = c.tenant.kind === 'default' ? config.DEFAULT_TENANT : c.tenant.kind === 'other' ? otherTenant : undefined;
  if (typeof c.source === 'object') {
    return { request: { method: 'POST', path: `${tenantPrefix}/webhooks/${c.source.unknown}${c.query}`, headers: { 'content-type': 'application/json', ...c.extra }, body: c.body }, tenant, mayAccept: false };
  }
  const source = c.source;
  const route = source.startsWith('generic:') ? `/webhooks/generic/${source.slice('generic:'.length)}` : `/webhooks/${source}`;
  const requestPath = `${tenantPrefix}${route}${c.query}`;
  const now = Math.floor(Date.now() / 1000);
  // Another secret of the same form (a suffix would not do: trailing base64 characters can decode to the same key).
  const secret = c.signing === 'wrong-secret' ? (source === 'standard' ? `whsec_${randomBytes(24).toString('base64')}` : randomBytes(16).toString('hex')) : secrets[source];
  const timestamp = c.signing === 'stale' ? now - 100_000 : now;
  let headers: Record<string, string> = {};
  if (c.signing === 'random') headers = { ...c.randomSignatureHeaders };
  else if (c.signing !== 'none') {
    headers = signatureHeaders(source, c.body, `${api.url}${requestPath}`, secret, timestamp, c.eventHeaders);
    if (c.signing === 'tampered-signature') headers[proofHeader[source]] = flipLast(headers[proofHeader[source]] ?? '', proofEncoding[source]);
  }
  const body = c.signing === 'body-changed' ? Buffer.concat([c.body, Buffer.from('&x=1 ')]) : c.body;
  const contentType = c.contentType ?? nativeContentType[source];
  const allHeaders: OutgoingHttpHeaders = { ...c.extra, ...headers };
  if (contentType !== undefined) allHeaders['content-type'] = contentType;
  if (c.contentEncoding !== undefined) allHeaders['content-encoding'] = c.contentEncoding;
  // Only a request signed with the tenant's own secret may start anything. Google's token is not
  // over the body, and a stale timestamp means nothing to the schemes that sign none (Twilio,
  // GitHub, Shopify, Google).
  const timeless = ['twilio', 'github', 'generic:shopify', 'google-calendar'].includes(source);
  const mayAccept =
    c.signing === 'valid' || (c.signing === 'body-changed' && source === 'google-calendar') || (c.signing === 'stale' && timeless);
  return { request: { method: 'POST', path: requestPath, headers: allHeaders, body }, tenant, mayAccept };
}

test('webhooks: arbitrary requests to every source never 5xx, and only verified ones start work', async () => {
  const outcomes = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(webhookCase, async (c) => {
      const { request, tenant, mayAccept } = webhookRequest(c);
      const res = await send(request);
      outcomes.set(String(res.status), (outcomes.get(String(res.status)) ?? 0) + 1);
      const error = (res.json as { error?: string } | undefined)?.error;
      // 503 not_configured is the documented answer for a (valid) tenant without a secret.
      expectNo5xx(res, { ...c, body: c.body.toString('latin1') }, (r) => r.status === 503 && error === 'not_configured' && tenant === undefined);
      if (res.status === 0 && c.body.length <= WEBHOOK_LIMIT) throw new Error(`connection closed without an answer for ${request.method} ${request.path}`);
      if (res.status >= 200 && res.status < 300) {
        if (!mayAccept) throw new Error(`an unverified request was answered ${res.status}: ${res.body.toString('utf8')}`);
        recordAcknowledged(res.json);
      }
      await expectAlive();
    }),
    fuzzParameters(1000),
  );
  // The signed share must actually get through sometimes, or the property proves little.
  expect(outcomes.get('202') ?? 0).toBeGreaterThan(0);
  expect(outcomes.get('401') ?? 0).toBeGreaterThan(0);
  await expectOnlyAcknowledgedWork();
  // Accepted means recorded: every accepted event reaches the ledger (a payload the ledger cannot
  // store would leave its workflow retrying the write forever).
  const accepted = [...acknowledged].filter((id) => id.startsWith('webhook:'));
  const unrecorded = async () => {
    const { rows } = await pool.query<{ workflow_id: string }>('SELECT workflow_id FROM webhook_events WHERE workflow_id = ANY($1)', [accepted]);
    const recorded = new Set(rows.map((r) => r.workflow_id));
    return accepted.filter((id) => !recorded.has(id));
  };
  await eventually(async () => ((await unrecorded()).length === 0 ? true : undefined), 30_000).catch(() => undefined);
  expect(await unrecorded()).toEqual([]);
}, testTimeoutMs);

// ---------------------------------------------------------------------------------------------
// Service API
// ---------------------------------------------------------------------------------------------

interface ServiceRoute {
  method: string;
  /** `:x` marks a fuzzed path segment. */
  path: string;
  /** Routes under /tenants/:tenant as well. */
  tenantScoped: boolean;
}

/** Every route api/app.ts mounts (api/routes/*), besides the webhook receivers above. */
const serviceRoutes: ServiceRoute[] = [
  { method: 'GET', path: '/healthz', tenantScoped: false },
  { method: 'GET', path: '/readyz', tenantScoped: false },
  { method: 'GET', path: '/metrics', tenantScoped: false },
  { method: 'POST', path: '/calls/:x/:x', tenantScoped: true },
  { method: 'POST', path: '/calls/stripe/createPaymentIntent', tenantScoped: true },
  { method: 'POST', path: '/calls/httpbin/:x', tenantScoped: true },
  { method: 'GET', path: '/calls/:x', tenantScoped: true },
  { method: 'POST', path: '/bookings', tenantScoped: true },
  { method: 'GET', path: '/bookings', tenantScoped: true },
  { method: 'GET', path: '/bookings/:x', tenantScoped: true },
  { method: 'POST', path: '/batches/:x/:x', tenantScoped: true },
  { method: 'POST', path: '/batches/sendgrid/sendMail', tenantScoped: true },
  { method: 'POST', path: '/batches/twilio/sendSms', tenantScoped: true },
  { method: 'GET', path: '/batches/items', tenantScoped: true },
  { method: 'GET', path: '/batches/items/:x', tenantScoped: true },
  { method: 'GET', path: '/budgets', tenantScoped: true },
  { method: 'GET', path: '/circuits', tenantScoped: true },
  { method: 'DELETE', path: '/cache', tenantScoped: true },
  { method: 'POST', path: '/subscribers', tenantScoped: true },
  { method: 'GET', path: '/subscribers', tenantScoped: true },
  { method: 'GET', path: '/subscribers/:x', tenantScoped: true },
  { method: 'PATCH', path: '/subscribers/:x', tenantScoped: true },
  { method: 'DELETE', path: '/subscribers/:x', tenantScoped: true },
  { method: 'POST', path: '/subscribers/:x/replay', tenantScoped: true },
  { method: 'GET', path: '/deliveries', tenantScoped: true },
  { method: 'POST', path: '/deliveries/:x/replay', tenantScoped: true },
  { method: 'GET', path: '/webhooks/events', tenantScoped: true },
  { method: 'GET', path: '/webhooks/events/:x', tenantScoped: true },
  { method: 'POST', path: '/webhooks/events/:x/retry', tenantScoped: true },
  { method: 'GET', path: '/provider-health', tenantScoped: false },
  { method: 'GET', path: '/sla', tenantScoped: false },
  { method: 'GET', path: '/alerts', tenantScoped: false },
  { method: 'GET', path: '/alerts/:x', tenantScoped: false },
  { method: 'POST', path: '/alerts/:x/ack', tenantScoped: false },
  { method: 'GET', path: '/stream', tenantScoped: true },
  { method: 'POST', path: '/api-keys', tenantScoped: true },
  { method: 'GET', path: '/api-keys', tenantScoped: true },
  { method: 'DELETE', path: '/api-keys/:x', tenantScoped: true },
  { method: 'POST', path: '/webhook-secrets', tenantScoped: true },
  { method: 'GET', path: '/webhook-secrets', tenantScoped: true },
  { method: 'PATCH', path: '/webhook-secrets/:x', tenantScoped: true },
  { method: 'DELETE', path: '/webhook-secrets/:x', tenantScoped: true },
];

const serviceBody = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: jsonText.map((s) => Buffer.from(s)) },
  {
    weight: 3,
    arbitrary: fc
      .record(
        {
          params: fc.oneof(
            fc.dictionary(fc.constantFrom('amount', 'currency', 'to', 'body', 'subject', 'text', 'id', 'calendarId', 'query', 'pathParams', '__proto__', 'constructor'), fc.jsonValue({ maxDepth: 2 })),
            fc.jsonValue({ maxDepth: 2 }),
          ),
          priority: fc.oneof(fc.constantFrom('critical', 'high', 'medium', 'normal', 'low'), fc.jsonValue({ maxDepth: 1 })),
          dedupKey: fc.string({ maxLength: 210 }),
          url: fc.oneof(fc.constantFrom('http://127.0.0.1:9/hook', 'ftp://x', 'javascript:alert(1)', 'http://'), fc.webUrl()),
          providers: fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }),
          eventTypes: fc.oneof(fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }), fc.string()),
          enabled: fc.jsonValue({ maxDepth: 1 }),
          by: fc.oneof(fc.string({ maxLength: 300 }), fc.integer()),
          amount: fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 5 })),
          currency: fc.string({ maxLength: 4 }),
          start: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string({ maxLength: 30 })),
          end: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string({ maxLength: 30 })),
          source: fc.oneof(fc.constantFrom('standard', 'github', 'stripe', 'generic:shopify'), fc.string({ maxLength: 20 })),
          secret: fc.oneof(fc.constant('whsec_dGVzdA=='), fc.string({ maxLength: 40 })),
          generate: fc.jsonValue({ maxDepth: 1 }),
          notAfter: fc.oneof(fc.constant(null), fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string({ maxLength: 30 })),
        },
        { requiredKeys: [] },
      )
      .map((v) => Buffer.from(JSON.stringify(v))),
  },
  { weight: 2, arbitrary: smallBody },
  { weight: 1, arbitrary: fc.constantFrom(Buffer.from('{"params":'), Buffer.from('{"__proto__":{"admin":true}}'), Buffer.from('{"params":{"constructor":{"prototype":{"x":1}}}}'), Buffer.from('\u0000')) },
  { weight: 1, arbitrary: hugeBody(300 * 1024) },
);

interface ServiceCase {
  route: ServiceRoute;
  tenant: { kind: 'none' } | { kind: 'service' } | { kind: 'path'; segment: string };
  segments: string[];
  query: string;
  body: Buffer | undefined;
  contentType: string | undefined;
  contentEncoding: string | undefined;
  idempotencyKey: string | undefined;
  /** The service API needs a credential: mostly a valid admin key of the path's tenant, sometimes none or garbage. */
  auth: { kind: 'key' } | { kind: 'none' } | { kind: 'random'; value: string };
  extra: Record<string, string>;
}

const serviceCase: fc.Arbitrary<ServiceCase> = fc.record({
  route: fc.constantFrom(...serviceRoutes),
  tenant: fc.oneof(
    { weight: 2, arbitrary: fc.constant({ kind: 'none' as const }) },
    { weight: 2, arbitrary: fc.constant({ kind: 'service' as const }) },
    { weight: 1, arbitrary: segment.map((s) => ({ kind: 'path' as const, segment: s })) },
  ),
  segments: fc.array(
    fc.oneof(
      segment,
      // ids of the right shape, so the lookups go past the tenant check
      fc.stringMatching(/^[a-z0-9]{1,6}$/).map((s) => `call:${config.DEFAULT_TENANT}:stripe:${s}`),
      fc.stringMatching(/^[a-z0-9]{1,6}$/).map((s) => encodeURIComponent(`webhook:${config.DEFAULT_TENANT}:stripe:${s}`)),
      // the right shape with a hostile tail: NUL, bad escapes, over-long
      fc
        .tuple(fc.constantFrom('call', 'webhook', 'booking', 'delivery', 'alert', 'sub_'), fc.oneof(rawHostileSegment, fc.constant('x'.repeat(1200))))
        .map(([kind, tail]) => (kind === 'sub_' ? `sub_${tail}` : `${kind}:${config.DEFAULT_TENANT}:stripe:${tail}`)),
      fc.constantFrom('stripe', 'twilio', 'sendgrid', 'httpbin', 'get', 'createPaymentIntent', 'sendMail', 'sendSms', 'sub_x', 'sendgrid.sendMail.critical.x', 'sendgrid.sendMail.high.x'),
    ),
    { minLength: 2, maxLength: 2 },
  ),
  query: queryString,
  body: serviceBody,
  contentType: fc.oneof(
    { weight: 5, arbitrary: fc.constant('application/json') },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/json; charset=utf-16', 'application/json; charset=koi8-r', 'application/x-www-form-urlencoded', 'application/*+json', 'APPLICATION/JSON') },
    { weight: 1, arbitrary: headerValue },
  ),
  contentEncoding,
  idempotencyKey: fc.option(fc.oneof(fc.stringMatching(/^[A-Za-z0-9_.:-]{1,40}$/), headerValue), { nil: undefined }),
  auth: fc.oneof(
    { weight: 8, arbitrary: fc.constant({ kind: 'key' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
    { weight: 1, arbitrary: headerValue.map((value) => ({ kind: 'random' as const, value })) },
  ),
  extra: extraHeaders,
});

/** Admin API keys of the default and the service tenant. */
const adminKeys = new Map<string, string>();

let serviceTenant: string;

function serviceRequest(c: ServiceCase): RawRequest {
  let i = 0;
  const routePath = c.route.path.replace(/:x/g, () => c.segments[i++] ?? 'x');
  const prefix = !c.route.tenantScoped || c.tenant.kind === 'none' ? '' : `/tenants/${c.tenant.kind === 'service' ? serviceTenant : c.tenant.segment}`;
  const headers: OutgoingHttpHeaders = { ...c.extra };
  if (c.contentType !== undefined) headers['content-type'] = c.contentType;
  if (c.contentEncoding !== undefined) headers['content-encoding'] = c.contentEncoding;
  if (c.idempotencyKey !== undefined) headers['idempotency-key'] = c.idempotencyKey;
  const keyTenant = prefix !== '' && c.tenant.kind === 'service' ? serviceTenant : config.DEFAULT_TENANT;
  if (c.auth.kind === 'key') headers.authorization = `Bearer ${adminKeys.get(keyTenant)}`;
  else if (c.auth.kind === 'random') headers.authorization = c.auth.value;
  return { method: c.route.method, path: `${prefix}${routePath}${c.query}`, headers, body: c.body };
}

test('service API: arbitrary requests to every route never 5xx, and refused ones start nothing', async () => {
  serviceTenant = `${config.DEFAULT_TENANT}-s`;
  tenantsSeen.add(serviceTenant);
  for (const tenant of [config.DEFAULT_TENANT, serviceTenant]) adminKeys.set(tenant, await api.keyFor('admin', tenant));
  const outcomes = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(serviceCase, async (c) => {
      const request = serviceRequest(c);
      const res = await send(request);
      const key = `${c.route.method} ${c.route.path} ${res.status}`;
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      expectNo5xx(res, { ...request, body: c.body?.toString('latin1').slice(0, 300) });
      if (res.status === 0 && (c.body?.length ?? 0) <= 256 * 1024) throw new Error(`connection closed without an answer for ${request.method} ${request.path}`);
      if (res.status >= 200 && res.status < 300) recordAcknowledged(res.json);
      await expectAlive();
    }),
    fuzzParameters(1500),
  );
  await expectOnlyAcknowledgedWork();
}, testTimeoutMs);

test('service API: every route with each hostile path segment and query value never 5xx', async () => {
  const hostile = ['%00', 'x%00', '%zz', '%ff', '%ED%A0%80', encodeURIComponent('x'.repeat(1200)), `call:${config.DEFAULT_TENANT}:stripe:%00`, `webhook:${config.DEFAULT_TENANT}:stripe:%00`];
  const failures: string[] = [];
  for (const route of serviceRoutes) {
    for (const value of hostile) {
      for (const prefix of route.tenantScoped ? ['', `/tenants/${value}`] : ['']) {
        const query = ['wait', 'since', 'prefix', 'provider', 'type', 'status', 'subscriber', 'window', 'state', 'topics', 'limit'].map((k) => `${k}=${value}`).join('&');
        for (const requestPath of [`${prefix}${route.path.replace(/:x/g, value)}`, `${prefix}${route.path.replace(/:x/g, 'x')}?${query}`]) {
          const authorization = `Bearer ${adminKeys.get(config.DEFAULT_TENANT) ?? (await api.keyFor('admin'))}`;
          const res = await send({ method: route.method, path: requestPath, headers: { 'content-type': 'application/json', 'idempotency-key': 'k1', authorization }, body: Buffer.from('{}') });
          if (res.status >= 500 || res.status === 0) failures.push(`${route.method} ${requestPath} → ${res.status} ${res.body.toString('utf8').slice(0, 120)}`);
          else if (res.status < 300) recordAcknowledged(res.json);
        }
      }
    }
  }
  expect(failures).toEqual([]);
  await expectAlive();
});

// ---------------------------------------------------------------------------------------------
// One validation policy for the service API
// ---------------------------------------------------------------------------------------------

interface Refusal {
  error?: string;
  fields?: Record<string, string>;
}

/** An admin key of the default tenant, made once for the tests below. */
let policyKey: string | undefined;
async function adminRequest(method: string, requestPath: string, body?: string, headers: OutgoingHttpHeaders = { 'content-type': 'application/json' }): Promise<Answer> {
  policyKey ??= await api.keyFor('admin');
  return send({ method, path: requestPath, headers: { 'idempotency-key': `k-${randomBytes(6).toString('hex')}`, authorization: `Bearer ${policyKey}`, ...headers }, body: body === undefined ? undefined : Buffer.from(body) });
}

const declaredServiceRoutes = (): Array<[string, string]> => declaredRoutes().map(({ method, path: routePath }) => [method, routePath]);

test('query parameters: bad, repeated or unknown ones answer 400 naming the parameter, ?wait= included, on every route', async () => {
  const failures: string[] = [];
  const expectNamed = async (method: string, requestPath: string, parameter: string) => {
    const res = await adminRequest(method, requestPath, method === 'GET' || method === 'DELETE' ? undefined : '{}');
    const fields = (res.json as Refusal | undefined)?.fields ?? {};
    if (res.status !== 400 || !Object.hasOwn(fields, parameter)) failures.push(`${method} ${requestPath} → ${res.status} ${res.body.toString('utf8').slice(0, 160)}`);
  };
  const waits = ['abc', '-1', 'NaN', '1e309', '', '%201', '0x10', '1.5', 'Infinity', '1e3'];
  for (const [method, routePath] of [['POST', '/calls/stripe/createPaymentIntent'], ['POST', '/bookings'], ['POST', '/batches/sendgrid/sendMail']] as const) {
    for (const value of waits) await expectNamed(method, `${routePath}?wait=${value}`, 'wait');
    await expectNamed(method, `${routePath}?wait`, 'wait');
    await expectNamed(method, `${routePath}?wait=1&wait=2`, 'wait');
    await expectNamed(method, `${routePath}?wait%5B%5D=1`, 'wait[]');
  }
  for (const [method, routePath] of [['GET', '/calls'], ['GET', '/bookings'], ['GET', '/batches/items'], ['GET', '/webhooks/events'], ['GET', '/sla'], ['GET', '/alerts'], ['GET', '/audit']] as const) {
    for (const value of ['abc', '0', '-5', '1e2', '', '100000']) await expectNamed(method, `${routePath}?limit=${value}`, 'limit');
    await expectNamed(method, `${routePath}?limit=1&limit=2`, 'limit');
  }
  for (const [method, routePath] of declaredServiceRoutes()) await expectNamed(method, `${routePath.replace(/:\w+/g, 'x')}?unknown_zz=1`, 'unknown_zz');
  expect(failures).toEqual([]);
  // A valid wait is still read (and capped by CALL_WAIT_MS).
  const ok = await adminRequest('GET', '/calls?limit=5');
  expect(ok.status).toBe(200);
});

test('invalid UTF-8, NUL or a malformed escape in any path segment or query answers 400, on every route (webhook tenant and source segments included)', async () => {
  const routes = expressRoutes(api.app).map((line) => line.split(' ') as [string, string]);
  expect(routes.length).toBeGreaterThan(80);
  const failures: string[] = [];
  for (const [method, routePath] of routes) {
    const requests: string[] = [`${routePath.replace(/:\w+/g, 'x')}?type=%C3%28`, `${routePath.replace(/:\w+/g, 'x')}?%FF=1`, `${routePath.replace(/:\w+/g, 'x')}?prefix=a%00b`];
    for (const bad of ['%C3%28', '%FF', '%ED%A0%80', 'a%00b', '%zz', '%E2%82']) {
      const params = routePath.match(/:\w+/g) ?? [];
      params.forEach((_param, which) => {
        let i = 0;
        requests.push(routePath.replace(/:\w+/g, () => (i++ === which ? bad : 'x')));
      });
    }
    for (const requestPath of requests) {
      const res = await adminRequest(method, requestPath, method === 'POST' || method === 'PATCH' ? '{}' : undefined);
      if (res.status !== 400) failures.push(`${method} ${requestPath} → ${res.status} ${res.body.toString('utf8').slice(0, 120)}`);
    }
  }
  expect(failures).toEqual([]);
});

test('NUL and unpaired surrogates in any string of a booking, batch item, call or other body answer 400 naming the field; nothing starts', async () => {
  const booking = {
    amount: 100,
    currency: 'usd',
    customer: 'cus_1',
    calendarId: 'primary',
    summary: 'Haircut',
    start: '2030-01-01T10:00:00Z',
    end: '2030-01-01T11:00:00Z',
    phone: '+14155550100',
    email: 'a@example.com',
    paypalVaultId: 'vault_1',
  };
  const cases: Array<[string, string, Record<string, unknown>, string]> = [];
  for (const field of Object.keys(booking).filter((f) => typeof booking[f as keyof typeof booking] === 'string')) {
    for (const bad of ['\u0000', '\ud800', '\udc00']) cases.push(['POST', '/bookings', { ...booking, [field]: `${String(booking[field as keyof typeof booking])}${bad}` }, field]);
  }
  const mail = { to: 'a@example.com', subject: 'Hi', text: 'Hello' };
  for (const bad of ['a\u0000', 'x\ud800', '\udc00']) {
    cases.push(['POST', '/batches/sendgrid/sendMail', { params: mail, dedupKey: bad }, 'dedupKey']);
    cases.push(['POST', '/batches/sendgrid/sendMail', { params: { ...mail, subject: bad } }, 'params.subject']);
    cases.push(['POST', '/batches/sendgrid/sendMail', { params: { ...mail, [bad]: 'x' } }, `params.${bad}`]);
    cases.push(['POST', '/calls/httpbin/postAnything', { params: { body: { note: bad } } }, 'params.body.note']);
    cases.push(['POST', '/calls/httpbin/postAnything', { params: { query: { q: ['ok', bad] } } }, 'params.query.q.1']);
    cases.push(['POST', '/subscribers', { url: `https://example.com/${bad}` }, 'url']);
    cases.push(['POST', '/api-keys', { role: 'service', name: `n${bad}` }, 'name']);
    cases.push(['POST', '/alerts/x/ack', { by: bad }, 'by']);
    cases.push(['POST', '/webhook-secrets', { source: 'standard', secret: `s${bad}s` }, 'secret']);
  }
  const failures: string[] = [];
  for (const [method, requestPath, body, field] of cases) {
    const res = await adminRequest(method, requestPath, JSON.stringify(body));
    const fields = (res.json as Refusal | undefined)?.fields ?? {};
    if (res.status >= 200 && res.status < 300) recordAcknowledged(res.json);
    if (res.status !== 400 || !Object.hasOwn(fields, field)) failures.push(`${method} ${requestPath} ${JSON.stringify(body)} → ${res.status} ${res.body.toString('utf8').slice(0, 160)}`);
  }
  expect(failures).toEqual([]);
  await expectOnlyAcknowledgedWork();
});

test('every route with a JSON body answers 415 to another content type (PATCH /subscribers/:id with text/plain changed nothing but answered 200)', async () => {
  const created = await adminRequest('POST', '/subscribers', JSON.stringify({ url: 'https://example.com/hook' }));
  expect(created.status).toBe(201);
  const subscriberId = (created.json as { id: string }).id;
  const failures: string[] = [];
  const bodyRoutes = declaredRoutes()
    .filter((route) => route.body !== undefined)
    .map(({ method, path: routePath }) => [method, routePath] as const);
  expect(bodyRoutes.length).toBeGreaterThanOrEqual(10);
  for (const [method, routePath] of bodyRoutes) {
    const requestPath = routePath.replace(/:\w+/g, routePath.startsWith('/subscribers') ? subscriberId : 'x');
    for (const headers of [{ 'content-type': 'text/plain' }, { 'content-type': 'application/x-www-form-urlencoded' }, { 'content-type': 'application/jsonx' }, {}] as OutgoingHttpHeaders[]) {
      const res = await adminRequest(method, requestPath, '{"enabled":false}', headers);
      if (res.status !== 415) failures.push(`${method} ${requestPath} ${JSON.stringify(headers)} → ${res.status} ${res.body.toString('utf8').slice(0, 120)}`);
    }
  }
  expect(failures).toEqual([]);
  const after = await adminRequest('GET', `/subscribers/${subscriberId}`);
  expect((after.json as { enabled: boolean }).enabled).toBe(true);
  // No body at all is still an empty one (an optional body), and JSON with a charset is JSON.
  expect((await adminRequest('PATCH', `/subscribers/${subscriberId}`, '{"enabled":true}', { 'content-type': 'application/json; charset=utf-8' })).status).toBe(200);
  expect((await adminRequest('DELETE', `/subscribers/${subscriberId}`)).status).toBe(204);
});
