/**
 * Webhook hardening on the real Temporal dev server and PostgreSQL: a source's IP allowlist (403,
 * X-Forwarded-For counted only from a trusted proxy), its per-tenant rate limit (429 + Retry-After,
 * other tenants and sources unaffected, a notice on the stream's `rate_limit` topic), and the
 * signature-failure alert (N bad signatures → one alert workflow naming the source), the stream's
 * batching topic and the seeds' metrics. Nothing
 * refused starts a workflow or writes a ledger row.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import { parseWebhookSources } from '../../api/webhook-sources';
import { webhookWorkflowId } from '../../contracts/webhook';
import { alertWorkflowId } from '../../contracts/monitoring';
import { alertMetricsRegistry } from '../../activities/alerts';
import { signatureAlertRule } from '../../lib/temporal/webhook-signature-alerts';
import { eventually, signStripe, startStack, stripeEvent, TEST_STRIPE_SECRET, type TestStack } from '../support/harness';

const OTHER_SECRET = 'whsec_test_hardening_other_tenant';
let stack: TestStack;
let otherTenant: string;

beforeAll(async () => {
  otherTenant = `o${randomUUID().slice(0, 8)}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'hardening-'));
  const secretsFile = path.join(dir, 'secrets.json');
  stack = await startStack({
    config: { WEBHOOK_SIGNATURE_ALERT_THRESHOLD: 4, WEBHOOK_SIGNATURE_ALERT_WINDOW_SECONDS: 300 },
    api: ({ config }) => {
      const secrets = [{ secret: TEST_STRIPE_SECRET }];
      writeFileSync(
        secretsFile,
        JSON.stringify({
          [config.DEFAULT_TENANT]: { stripe: secrets, 'stripe-guarded': secrets, 'stripe-local': secrets, 'stripe-probed': secrets },
          [otherTenant]: { stripe: [{ secret: OTHER_SECRET }] },
        }),
      );
      return {
        secretsFile,
        webhookSources: parseWebhookSources({
          sources: {
            stripe: { scheme: 'stripe', rateLimitPerMinute: 3 },
            'stripe-guarded': { scheme: 'stripe', allowIps: ['203.0.113.0/24', '2001:db8::/32'] },
            'stripe-local': { scheme: 'stripe', allowIps: ['127.0.0.0/8', '::1'] },
            'stripe-probed': { scheme: 'stripe' },
          },
        }),
      };
    },
  });
});

afterAll(() => stack?.close());

async function post(pathName: string, event: Record<string, unknown>, init: { secret?: string; headers?: Record<string, string>; signature?: string } = {}) {
  const body = JSON.stringify(event);
  const res = await fetch(`${stack.api.url}${pathName}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': init.signature ?? signStripe(body, init.secret), ...init.headers },
    body,
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

/** True when no workflow has this id (nothing was started). */
async function neverStarted(workflowId: string): Promise<boolean> {
  try {
    await stack.api.workflows.getHandle(workflowId).describe();
    return false;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return true;
    throw err;
  }
}

async function ledgerCount(eventId: string): Promise<number> {
  const { rows } = await stack.pool.query<{ n: string }>('SELECT count(*) AS n FROM webhook_events WHERE event_id = $1', [eventId]);
  return Number(rows[0]!.n);
}

/** Opens GET /stream?topics=… and collects its events until closed. */
async function openStream(topics: string) {
  const controller = new AbortController();
  const res = await stack.api.fetch(`/stream?topics=${topics}`, { signal: controller.signal });
  expect(res.status).toBe(200);
  const events: Array<{ event: string; data: Record<string, unknown> }> = [];
  const reader = res.body!.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  const decoder = new TextDecoder();
  let buffer = '';
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event === 'ready') ready();
          else if (event && data) events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
        }
      }
    } catch {
      // aborted
    }
  })();
  await isReady;
  return { events, close: () => controller.abort() };
}

describe('IP allowlist', () => {
  test('a request from outside the source\'s ranges gets 403 with the reason and starts nothing, X-Forwarded-For or not', async () => {
    const spoofs: Array<Record<string, string>> = [{}, { 'x-forwarded-for': '203.0.113.7' }, { 'x-forwarded-for': '2001:db8::1, 203.0.113.7' }];
    for (const headers of spoofs) {
      const event = stripeEvent();
      const res = await post('/webhooks/stripe-guarded', event, { headers });
      expect(res.status).toBe(403);
      expect(res.json.error).toBe('forbidden_address');
      expect(String(res.json.reason)).toMatch(/stripe-guarded .*allowed addresses.*127\.0\.0\.1/);
      expect(await neverStarted(webhookWorkflowId(stack.config.DEFAULT_TENANT, 'stripe-guarded', String(event.id)))).toBe(true);
      expect(await ledgerCount(String(event.id))).toBe(0);
    }
  });

  test('a request from inside the ranges is received, IPv4-mapped addresses included', async () => {
    const event = stripeEvent();
    const res = await post('/webhooks/stripe-local', event);
    expect(res.status).toBe(202);
  });

  test("X-Forwarded-For counts once the app trusts the proxy it came through (Express's trust proxy)", async () => {
    stack.api.app.set('trust proxy', 'loopback');
    try {
      expect((await post('/webhooks/stripe-guarded', stripeEvent(), { headers: { 'x-forwarded-for': '203.0.113.7' } })).status).toBe(202);
      expect((await post('/webhooks/stripe-guarded', stripeEvent(), { headers: { 'x-forwarded-for': '2001:db8::42' } })).status).toBe(202);
      expect((await post('/webhooks/stripe-guarded', stripeEvent(), { headers: { 'x-forwarded-for': '198.51.100.1' } })).status).toBe(403);
    } finally {
      stack.api.app.set('trust proxy', false);
    }
  });

  test('hostile source names are unknown sources, not prototype members', async () => {
    for (const name of ['__proto__', 'constructor', 'hasOwnProperty']) {
      const res = await post(`/webhooks/${name}`, stripeEvent());
      expect(res.status).toBe(404);
    }
  });
});

describe('rate limit per tenant and source', () => {
  test('over the limit: 429 with Retry-After, nothing started; other tenants and sources unaffected; a rate_limit notice on the stream', async () => {
    const stream = await openStream('rate_limit');
    const otherStream = await stack.api.fetch(`/tenants/${otherTenant}/stream?topics=rate_limit`);
    try {
      for (let i = 0; i < 3; i++) expect((await post('/webhooks/stripe', stripeEvent())).status).toBe(202);
      const over = stripeEvent();
      const refused = await post('/webhooks/stripe', over);
      expect(refused.status).toBe(429);
      expect(refused.json.error).toBe('rate_limited');
      expect(String(refused.json.reason)).toMatch(/more than 3 stripe webhooks a minute/);
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(await neverStarted(webhookWorkflowId(stack.config.DEFAULT_TENANT, 'stripe', String(over.id)))).toBe(true);
      expect(await ledgerCount(String(over.id))).toBe(0);
      // A bad signature over the limit is refused as over the limit too: the body is never read.
      expect((await post('/webhooks/stripe', stripeEvent(), { signature: 't=1,v1=00' })).status).toBe(429);

      // Another tenant's stripe source, and another source of this tenant: their own limits.
      expect((await post(`/tenants/${otherTenant}/webhooks/stripe`, stripeEvent(), { secret: OTHER_SECRET })).status).toBe(202);
      expect((await post('/webhooks/stripe-probed', stripeEvent())).status).toBe(202);

      const notice = await eventually(() => Promise.resolve(stream.events.find((e) => e.event === 'rate_limit')));
      expect(notice.data).toMatchObject({ kind: 'webhook_source', subject: 'stripe', limitPerMinute: 3, tenant: stack.config.DEFAULT_TENANT });
      // One notice a minute per limit and key, however many refusals.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(stream.events.filter((e) => e.event === 'rate_limit')).toHaveLength(1);

      const metrics = await stack.api.scrapeMetrics();
      expect(metrics).toMatch(/webhooks_received_total\{provider="stripe",outcome="rate_limited"\} 2/);
      expect(metrics).toMatch(/http_requests_total\{method="POST",route="\/webhooks\/:source",status="4xx"\} \d+/);
      expect(metrics).toMatch(/http_requests_total\{method="POST",route="\/tenants\/:tenant\/webhooks\/:source",status="2xx"\} 1/);
    } finally {
      stream.close();
      await otherStream.body?.cancel();
    }
  });
});

describe('signature failure alert', () => {
  test('N bad signatures of one source raise one alert naming it, however many more follow', async () => {
    const tenant = stack.config.DEFAULT_TENANT;
    const workflowId = alertWorkflowId(signatureAlertRule, `${tenant}:stripe-probed`);
    for (let i = 0; i < 9; i++) {
      const res = await post('/webhooks/stripe-probed', stripeEvent(), { signature: `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}` });
      expect(res.status).toBe(401);
    }
    const row = await eventually(async () => {
      const { rows } = await stack.pool.query<{ rule: string; provider: string; summary: string; severity: string; state: string }>(
        'SELECT rule, provider, summary, severity, state FROM alerts WHERE id = $1',
        [workflowId],
      );
      return rows[0];
    });
    expect(row).toMatchObject({ rule: 'webhook-signature-failures', provider: 'stripe-probed', severity: 'high', state: 'firing' });
    expect(row.summary).toContain(`stripe-probed webhooks of tenant ${tenant}: 4 signature failures within 300 s`);
    // More failures: still one alert, one run, no second raise.
    for (let i = 0; i < 4; i++) await post('/webhooks/stripe-probed', stripeEvent(), { signature: 't=1,v1=00' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const runs = [];
    for await (const run of stack.api.workflows.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(run);
    expect(runs).toHaveLength(1);
    const { rows } = await stack.pool.query<{ n: string }>('SELECT count(*) AS n FROM alerts WHERE rule = $1 AND fingerprint LIKE $2', [
      signatureAlertRule,
      `${tenant}:%`,
    ]);
    expect(Number(rows[0]!.n)).toBe(1);
    // The other sources of the tenant, with good signatures, raised nothing.
    expect(await neverStarted(alertWorkflowId(signatureAlertRule, `${tenant}:stripe-local`))).toBe(true);
    // The worker counted it firing: alerts_total{severity="high"}.
    expect(await alertMetricsRegistry.getSingleMetricAsString('alerts_total')).toMatch(/alerts_total\{severity="high"\} [1-9]/);
    expect(await stack.api.scrapeMetrics()).toMatch(/webhooks_received_total\{provider="stripe-probed",outcome="invalid_signature"\} 13/);
  });
});

test("a batch flush is published on the stream's batching topic with its size, waits and the requests it saved", async () => {
  const stream = await openStream('batching');
  try {
    const run = randomUUID().slice(0, 8);
    for (const x of ['a', 'b', 'c']) {
      const res = await stack.api.fetch('/batches/sendgrid/sendMail', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ params: { to: `${x}-${run}@example.com`, subject: 'digest', text: 'hello' }, priority: 'high' }),
      });
      expect([200, 202]).toContain(res.status);
    }
    const flush = await eventually(() => Promise.resolve(stream.events.find((e) => e.event === 'batching' && e.data.provider === 'sendgrid')));
    expect(flush.data).toMatchObject({ operation: 'sendMail', priority: 'high', tenant: stack.config.DEFAULT_TENANT });
    const { flushSize, providerRequests, requestsSaved } = flush.data as { flushSize: number; providerRequests: number; requestsSaved: number };
    expect(flushSize).toBeGreaterThanOrEqual(1);
    expect(requestsSaved).toBe(flushSize - providerRequests);
    expect(typeof flush.data.waitMsMax).toBe('number');
  } finally {
    stream.close();
  }
});

test('the pool gauges count the API pool', async () => {
  const metrics = await stack.api.scrapeMetrics();
  expect(metrics).toMatch(/database_connections\{state="total"\} \d+/);
  expect(metrics).toMatch(/database_connections\{state="idle"\} \d+/);
  expect(metrics).toMatch(/database_connections\{state="waiting"\} 0/);
  expect(metrics).toMatch(/database_connections_active \d+/);
});
