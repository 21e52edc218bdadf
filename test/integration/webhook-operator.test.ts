/**
 * Operator endpoints over webhook events on the real server: list with filters (ledger plus
 * in-flight events from Temporal visibility), detail, retry of a failed event, tenant isolation.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { Pool } from 'pg';
import { createActivities } from '../../activities';
import type { Config } from '../../lib/config/config';
import type { WebhookEvent } from '../../contracts/webhook';
import {
  postStripe,
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
let handlerBroken = false;

beforeAll(async () => {
  pool = testPool();
  config = testConfig();
  const real = createActivities({ pool, registry: {}, env: {}, providerTaskQueuePrefix: config.PROVIDER_TASK_QUEUE_PREFIX });
  worker = await startWorker(config, pool, {
    activities: {
      async recordStripePayment(event: WebhookEvent) {
        if (handlerBroken) throw ApplicationFailure.nonRetryable('payments table is being migrated', 'HandlerBroken');
        return real.recordStripePayment(event);
      },
    },
  });
  api = await startApi(config, pool);
});

afterAll(async () => {
  await api?.close();
  await worker?.stop();
  await pool?.end();
});

interface Listed {
  workflowId: string;
  eventType: string;
  status: string;
}

async function list(query = '', prefix = ''): Promise<Listed[]> {
  const res = await api.fetch(`${prefix}/webhooks/events${query}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { events: Listed[] }).events;
}

async function deliver(type = 'payment_intent.succeeded', object?: Record<string, unknown>): Promise<string> {
  const res = await postStripe(api.url, stripeEvent(type, object ? { object } : {}));
  const workflowId = String(res.json.workflowId);
  await (await whenStarted(api.workflows, workflowId)).result().catch(() => undefined);
  return workflowId;
}

test('list filters by type and status; detail shows the ledger summary; a failed event is retried to completion', async () => {
  const handled = await deliver();
  const other = await deliver('customer.created', { id: 'cus_1', object: 'customer' });
  handlerBroken = true;
  const failed = await deliver();
  handlerBroken = false;

  expect((await list('?status=failed')).map((e) => e.workflowId)).toEqual([failed]);
  expect((await list('?type=customer.created')).map((e) => e.workflowId)).toEqual([other]);
  const all = (await list('?provider=stripe')).map((e) => e.workflowId);
  expect(all).toEqual(expect.arrayContaining([handled, other, failed]));
  expect((await list(`?to=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}`))).toEqual([]);
  expect((await api.fetch(`/webhooks/events?status=nope`)).status).toBe(400);

  const detail = (await (await api.fetch(`/webhooks/events/${encodeURIComponent(failed)}`)).json()) as Record<string, unknown>;
  expect(detail).toMatchObject({ executionStatus: 'FAILED', status: 'failed', ledger: { status: 'failed' }, deliveries: [] });
  expect((detail.ledger as { payloadSummary: { fields: string[] } }).payloadSummary.fields).toContain('data');

  expect((await api.fetch(`/webhooks/events/${encodeURIComponent(handled)}/retry`, { method: 'POST' })).status).toBe(409);
  const retry = await api.fetch(`/webhooks/events/${encodeURIComponent(failed)}/retry`, { method: 'POST' });
  expect(retry.status).toBe(202);
  await (await whenStarted(api.workflows, failed)).result();
  expect((await list('?status=failed')).map((e) => e.workflowId)).toEqual([]);
  const after = (await (await api.fetch(`/webhooks/events/${encodeURIComponent(failed)}`)).json()) as Record<string, unknown>;
  expect(after).toMatchObject({ executionStatus: 'COMPLETED', status: 'completed', ledger: { status: 'completed' } });
});

test('another tenant sees none of these events, by list, detail or retry', async () => {
  const mine = await deliver();
  expect(await list('', '/tenants/someone-else')).toEqual([]);
  expect((await api.fetch(`/tenants/someone-else/webhooks/events/${encodeURIComponent(mine)}`)).status).toBe(404);
  expect((await api.fetch(`/tenants/someone-else/webhooks/events/${encodeURIComponent(mine)}/retry`, { method: 'POST' })).status).toBe(404);
});

test('an accepted event no worker has started yet is listed from the inbox as received, and shown as QUEUED', async () => {
  const idle = testConfig({ DEFAULT_TENANT: config.DEFAULT_TENANT }); // a task queue no worker drains
  const idleApi = await startApi(idle, pool);
  try {
    const res = await postStripe(idleApi.url, stripeEvent());
    expect(res.status).toBe(202);
    const workflowId = String(res.json.workflowId);
    const listed = (await list('?status=received')).find((e) => e.workflowId === workflowId);
    expect(listed).toMatchObject({ status: 'received', eventType: 'payment_intent.succeeded' });
    const shown = await api.fetch(`/webhooks/events/${encodeURIComponent(workflowId)}`);
    expect(await shown.json()).toMatchObject({ workflowId, runId: null, executionStatus: 'QUEUED', ledger: { status: 'received' } });
    // Another tenant sees nothing of it.
    expect((await api.fetch(`/tenants/someone-else/webhooks/events/${encodeURIComponent(workflowId)}`)).status).toBe(404);
    await pool.query('DELETE FROM webhook_events WHERE workflow_id = $1', [workflowId]);
  } finally {
    await idleApi.close();
  }
});
