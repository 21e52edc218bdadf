/**
 * The Stripe webhook slice end to end on the real Temporal dev server and the real PostgreSQL:
 * accept → processWebhook → ledger row → payment row, and every way a request can be refused.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import type { Pool } from 'pg';
import type { Config } from '../../lib/config/config';
import { createActivities } from '../../activities';
import type { WebhookEvent, WebhookStatus } from '../../contracts/webhook';
import {
  eventually,
  postStripe,
  postWebhook,
  signStripe,
  startApi,
  startWorker,
  stripeEvent,
  testConfig,
  testPool,
  type RunningApi,
  type RunningWorker,
} from '../support/harness';
import { whenStarted } from '../support/inbox';

let pool: Pool;
let config: Config;
let worker: RunningWorker;
let api: RunningApi;

beforeAll(async () => {
  pool = testPool();
  config = testConfig();
  worker = await startWorker(config, pool);
  api = await startApi(config, pool);
});

afterAll(async () => {
  await api?.close();
  await worker?.stop();
  await pool?.end();
});

interface LedgerRow {
  status: string;
  outcome: string | null;
  last_error: string | null;
}

async function ledgerRows(eventId: string): Promise<LedgerRow[]> {
  const { rows } = await pool.query<LedgerRow>('SELECT status, outcome, last_error FROM webhook_events WHERE tenant = $1 AND event_id = $2', [
    config.DEFAULT_TENANT,
    eventId,
  ]);
  return rows;
}

async function paymentCount(paymentId: string): Promise<number> {
  const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM payments WHERE tenant = $1 AND payment_id = $2', [
    config.DEFAULT_TENANT,
    paymentId,
  ]);
  return Number(rows[0]!.n);
}

async function statusOf(workflowId: string): Promise<WebhookStatus & { executionStatus: string }> {
  const res = await api.fetch(`/webhooks/events/${encodeURIComponent(workflowId)}`);
  expect(res.status).toBe(200);
  return (await res.json()) as WebhookStatus & { executionStatus: string };
}

/** True when the request left a trace: a ledger (inbox) row or a workflow. */
async function workflowExists(workflowId: string): Promise<boolean> {
  const { rowCount } = await pool.query('SELECT 1 FROM webhook_events WHERE workflow_id = $1', [workflowId]);
  if (rowCount) return true;
  try {
    await api.workflows.getHandle(workflowId).describe();
    return true;
  } catch {
    return false;
  }
}

function paymentIdOf(event: Record<string, unknown>): string {
  return ((event.data as { object: { id: string } }).object).id;
}

test('a signed payment_intent.succeeded goes 202 → completed → one ledger row → one payment', async () => {
  const event = stripeEvent();
  const res = await postStripe(api.url, event);
  expect(res.status).toBe(202);
  const workflowId = `webhook:${config.DEFAULT_TENANT}:stripe:${String(event.id)}`;
  // Acknowledged once the ledger row is committed: the run id comes once the drainer started it.
  expect(res.json).toEqual({ workflowId });

  await (await whenStarted(api.workflows, workflowId)).result();
  const status = await statusOf(workflowId);
  expect(status).toMatchObject({
    executionStatus: 'COMPLETED',
    status: 'completed',
    outcome: 'handled',
    handler: 'recordStripePayment',
    // The API wrote the ledger row (the inbox): the run's ledger step is done before it starts.
    steps: { ledger: { state: 'done' }, handler: { state: 'done', attempts: 1 } },
    lastError: null,
  });
  expect(await ledgerRows(String(event.id))).toEqual([{ status: 'completed', outcome: 'handled', last_error: null }]);
  expect(await paymentCount(paymentIdOf(event))).toBe(1);

  const description = await api.workflows.getHandle(workflowId).describe();
  expect(description.searchAttributes).toMatchObject({
    provider: ['stripe'],
    tenant: [config.DEFAULT_TENANT],
    eventType: ['payment_intent.succeeded'],
    webhookStatus: ['completed'],
  });
});

test('the same event delivered again answers 200 with the same workflow and no second side effect', async () => {
  const event = stripeEvent();
  const first = await postStripe(api.url, event);
  expect(first.status).toBe(202);
  const workflowId = String(first.json.workflowId);
  // while it may still wait in the inbox or run …
  const whileOpen = await postStripe(api.url, event);
  expect(whileOpen.status).toBe(200);
  expect(whileOpen.json).toMatchObject({ workflowId, duplicate: true });
  const handle = await whenStarted(api.workflows, workflowId);
  await handle.result();
  const { runId } = await handle.describe();
  // … and after it has completed: the ledger answers, with the one run
  const afterClose = await postStripe(api.url, event);
  expect(afterClose.status).toBe(200);
  expect(afterClose.json).toEqual({ workflowId, runId, duplicate: true });

  expect(await ledgerRows(String(event.id))).toHaveLength(1);
  expect(await paymentCount(paymentIdOf(event))).toBe(1);
});

test('10 identical deliveries at once → one workflow run, one ledger row, one payment', async () => {
  const event = stripeEvent();
  const answers = await Promise.all(Array.from({ length: 10 }, () => postStripe(api.url, event)));
  const statuses = answers.map((a) => a.status).sort();
  expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 202]);
  const workflowIds = new Set(answers.map((a) => a.json.workflowId));
  expect(workflowIds.size).toBe(1);

  const [workflowId] = [...workflowIds] as string[];
  await (await whenStarted(api.workflows, workflowId!)).result();
  expect(await ledgerRows(String(event.id))).toHaveLength(1);
  expect(await paymentCount(paymentIdOf(event))).toBe(1);
});

test('an event type without a handler is recorded and acknowledged, not failed', async () => {
  const event = stripeEvent('customer.created', { object: { id: 'cus_123', object: 'customer' } });
  const res = await postStripe(api.url, event);
  expect(res.status).toBe(202);
  await (await whenStarted(api.workflows, String(res.json.workflowId))).result();
  const status = await statusOf(String(res.json.workflowId));
  expect(status).toMatchObject({ status: 'completed', outcome: 'unhandled', handler: null, steps: { handler: { state: 'skipped' } } });
  expect(await ledgerRows(String(event.id))).toEqual([{ status: 'completed', outcome: 'unhandled', last_error: null }]);
});

test('a handler that cannot succeed marks the event failed with its error (ledger and status)', async () => {
  // Valid signature and envelope, but the payment intent lacks `amount`: non-retryable.
  const event = stripeEvent('payment_intent.succeeded', { object: { id: 'pi_broken', currency: 'usd' } });
  const res = await postStripe(api.url, event);
  expect(res.status).toBe(202);
  const workflowId = String(res.json.workflowId);
  await expect((await whenStarted(api.workflows, workflowId)).result()).rejects.toBeInstanceOf(WorkflowFailedError);

  const status = await statusOf(workflowId);
  expect(status).toMatchObject({
    executionStatus: 'FAILED',
    status: 'failed',
    steps: { handler: { state: 'failed', attempts: 1 } },
  });
  expect(status.lastError).toMatch(/amount/);
  const [row] = await ledgerRows(String(event.id));
  expect(row).toMatchObject({ status: 'failed' });
  expect(row!.last_error).toMatch(/amount/);
});

describe('with a handler that fails transiently', () => {
  let flakyConfig: Config;
  let flakyWorker: RunningWorker;
  let flakyApi: RunningApi;
  const failuresBeforeSuccess = 2;
  const attemptsSeen: number[] = [];

  beforeAll(async () => {
    flakyConfig = testConfig();
    const real = createActivities({ pool, registry: {}, env: {}, providerTaskQueuePrefix: flakyConfig.PROVIDER_TASK_QUEUE_PREFIX });
    flakyWorker = await startWorker(flakyConfig, pool, { activities: {
      async recordStripePayment(event: WebhookEvent) {
        const { attempt } = Context.current().info;
        attemptsSeen.push(attempt);
        if (attempt <= failuresBeforeSuccess) {
          throw ApplicationFailure.create({ message: `database briefly unavailable (attempt ${attempt})`, details: [{ attempt }] });
        }
        return real.recordStripePayment(event);
      },
    } });
    flakyApi = await startApi(flakyConfig, pool);
  });
  afterAll(async () => {
    await flakyApi?.close();
    await flakyWorker?.stop();
  });

  test('retries under the declared policy, then completes; the status counts the attempts', async () => {
    const event = stripeEvent();
    const res = await postStripe(flakyApi.url, event);
    expect(res.status).toBe(202);
    const workflowId = String(res.json.workflowId);
    await (await whenStarted(flakyApi.workflows, workflowId)).result();
    const status = await flakyApi.workflows.getHandle(workflowId).query<WebhookStatus>('status');
    expect(status.steps.handler).toEqual({ state: 'done', attempts: failuresBeforeSuccess + 1, lastError: null });
    expect(attemptsSeen).toEqual([1, 2, 3]);
    const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM payments WHERE tenant = $1 AND payment_id = $2', [
      flakyConfig.DEFAULT_TENANT,
      paymentIdOf(event),
    ]);
    expect(rows[0]!.n).toBe(1);
  });
});

describe('refused requests start nothing', () => {
  test('missing signature → 401 with a reason', async () => {
    const event = stripeEvent();
    const res = await postWebhook(api.url, JSON.stringify(event), {});
    expect(res.status).toBe(401);
    expect(res.json).toEqual({ error: 'invalid_signature', reason: 'missing Stripe-Signature header' });
    expect(await workflowExists(`webhook:${config.DEFAULT_TENANT}:stripe:${String(event.id)}`)).toBe(false);
  });

  test('wrong secret → 401', async () => {
    const event = stripeEvent();
    const body = JSON.stringify(event);
    const res = await postWebhook(api.url, body, { 'stripe-signature': signStripe(body, 'whsec_not_ours') });
    expect(res.status).toBe(401);
    expect(res.json.reason).toMatch(/signature/i);
    expect(await workflowExists(`webhook:${config.DEFAULT_TENANT}:stripe:${String(event.id)}`)).toBe(false);
  });

  test('body changed after signing → 401', async () => {
    const event = stripeEvent();
    const signature = signStripe(JSON.stringify(event));
    const res = await postWebhook(api.url, JSON.stringify({ ...event, livemode: true }), { 'stripe-signature': signature });
    expect(res.status).toBe(401);
  });

  test('timestamp older than the 300 s tolerance → 401', async () => {
    const event = stripeEvent();
    const body = JSON.stringify(event);
    const stale = Math.floor(Date.now() / 1000) - 301;
    const res = await postWebhook(api.url, body, { 'stripe-signature': signStripe(body, undefined, stale) });
    expect(res.status).toBe(401);
    expect(res.json.reason).toMatch(/tolerance/i);
    expect(await workflowExists(`webhook:${config.DEFAULT_TENANT}:stripe:${String(event.id)}`)).toBe(false);
  });

  test('signed but malformed JSON → 400', async () => {
    const body = '{"id": "evt_1", "type": ';
    const res = await postWebhook(api.url, body, { 'stripe-signature': signStripe(body) });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: 'invalid_event' });
    expect(res.json.reason).toMatch(/JSON/);
  });

  test('signed JSON that is not a Stripe event → 400 naming the fields', async () => {
    const body = JSON.stringify({ id: 'evt with spaces', data: {} });
    const res = await postWebhook(api.url, body, { 'stripe-signature': signStripe(body) });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: 'invalid_event' });
    expect(Object.keys(res.json.fields as object).sort()).toEqual(['data.object', 'id', 'type']);
  });

  test('body over the configured limit → 413', async () => {
    const event = stripeEvent('payment_intent.succeeded', {
      object: { id: 'pi_big', padding: 'x'.repeat(config.WEBHOOK_BODY_LIMIT_BYTES) },
    });
    const body = JSON.stringify(event);
    const res = await postWebhook(api.url, body, { 'stripe-signature': signStripe(body) });
    expect(res.status).toBe(413);
    expect(res.json).toMatchObject({ error: 'body_too_large' });
    expect(await workflowExists(`webhook:${config.DEFAULT_TENANT}:stripe:${String(event.id)}`)).toBe(false);
  });

  test('unknown workflow id on the status route → 404', async () => {
    const res = await api.fetch(`/webhooks/events/webhook:nobody:stripe:evt_none`);
    expect(res.status).toBe(404);
  });
});

test('outcomes are counted in webhooks_received_total', async () => {
  const text = await api.scrapeMetrics();
  expect(text).toMatch(/webhooks_received_total\{provider="stripe",outcome="accepted"\} \d+/);
  expect(text).toMatch(/webhooks_received_total\{provider="stripe",outcome="invalid_signature"\} \d+/);
  expect(text).toMatch(/http_request_duration_seconds_bucket/);
});

test('/healthz and /readyz answer when Temporal and PostgreSQL are up', async () => {
  expect((await api.fetch(`/healthz`)).status).toBe(200);
  const ready = await api.fetch(`/readyz`);
  expect(ready.status).toBe(200);
  expect(await ready.json()).toMatchObject({ status: 'ready', checks: { temporal: { ok: true }, postgres: { ok: true } } });
});

// kept near the end: eventually() is only needed where a status is read while running
test('the status query answers while the workflow is open', async () => {
  const event = stripeEvent();
  const res = await postStripe(api.url, event);
  const status = await eventually(async () => {
    const s = await statusOf(String(res.json.workflowId));
    return s.status === null ? undefined : s;
  });
  expect(['received', 'processing', 'completed']).toContain(status.status);
});
