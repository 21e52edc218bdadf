/**
 * Both client paths against the running stack (real API, worker, Temporal dev server, PostgreSQL,
 * fake providers): the typed HTTP client (calls with and without a wait, bounded waits, batch
 * items, the booking and batch item lists, typed errors) and the Temporal-native path (a plain @temporalio/client starting
 * providerCall with the exported id builder and start options: the API then sees the same call).
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { SwitchyardApiError, SwitchyardClient, SwitchyardConnectionError, SwitchyardTimeoutError } from '../../client';
import {
  payloadDataConverterFromKeys,
  providerCallStartOptions,
  providerCallStatusQuery,
  providerCallWorkflowId,
  workflowTypes,
  type ProviderCallInput,
  type ProviderCallWorkflow,
} from '../../client/temporal';
import type { Config } from '../../lib/config/config';
import type { ProviderConfig } from '../../lib/config/registry';
import type { FakeProviders } from '../fakes/provider-server';
import { eventually, startStack, type RunningApi, type TestStack } from '../support/harness';

const mailProvider = `mail-${randomUUID().slice(0, 8)}`;
const payment = { amount: 2500, currency: 'usd', customer: 'cus_client' };

let stack: TestStack;
let fakes: FakeProviders;
let config: Config;
let api: RunningApi;
let service: SwitchyardClient;

beforeAll(async () => {
  ({ fakes, config, api } = stack = await startStack({
    config: { CALL_WAIT_MS: 30_000 },
    registry: (r) => {
      const sendgrid: ProviderConfig = r.sendgrid!;
      r[mailProvider] = { ...structuredClone(sendgrid), name: mailProvider, batch: { ...sendgrid.batch!, maxWaitMs: { high: 300, medium: 300, low: 300 } } };
    },
  }));
  service = new SwitchyardClient({ baseUrl: api.url, apiKey: await api.keyFor('service') });
});

afterAll(() => stack?.close());

beforeEach(() => fakes.clearFaults());

test('call with a wait answers the result; the same idempotency key answers the same workflow without a second charge', async () => {
  const before = fakes.state().charges;
  const key = `order-${randomUUID()}`;
  const first = await service.call('stripe', 'createPaymentIntent', payment, { idempotencyKey: key, wait: 20_000 });
  expect(first).toMatchObject({ status: 'completed', duplicate: false, workflowId: providerCallWorkflowId(config.DEFAULT_TENANT, 'stripe', key) });
  expect((first.result as { data: { id: string } }).data.id).toMatch(/^pi_/);

  const again = await service.call('stripe', 'createPaymentIntent', payment, { idempotencyKey: key });
  expect(again).toMatchObject({ status: 'completed', duplicate: true, workflowId: first.workflowId, result: first.result });
  expect(fakes.state().charges).toBe(before + 1);

  const view = await service.getCall(first.workflowId);
  expect(view).toMatchObject({ executionStatus: 'COMPLETED', status: 'completed', servedBy: 'stripe' });

  // listCalls reads Temporal's visibility, which sees a closed run within moments.
  const listed = await eventually(async () => {
    const { calls } = await service.listCalls({ provider: 'stripe', status: 'completed', limit: 500 });
    return calls.find((c) => c.workflowId === first.workflowId);
  }, 15_000);
  expect(listed).toMatchObject({ provider: 'stripe', executionStatus: 'COMPLETED' });
});

test('waitForCall polls until the call finishes, and rejects with SwitchyardTimeoutError once its bound has passed', async () => {
  fakes.addFault({ provider: 'stripe', kind: 'latency', latencyMs: 2500, times: 1 });
  const started = await service.call('stripe', 'createPaymentIntent', payment, { idempotencyKey: `slow-${randomUUID()}`, wait: 0 });
  expect(started.status).toBe('running');

  const early = Date.now();
  const timedOut = await service.waitForCall(started.workflowId, { timeoutMs: 400, intervalMs: 100 }).catch((err: unknown) => err);
  expect(timedOut).toBeInstanceOf(SwitchyardTimeoutError);
  expect(timedOut).toMatchObject({ id: started.workflowId, timeoutMs: 400 });
  expect(Date.now() - early).toBeLessThan(2000);

  const done = await service.waitForCall(started.workflowId, { timeoutMs: 20_000 });
  expect(done).toMatchObject({ executionStatus: 'COMPLETED', status: 'completed' });
});

test('enqueue puts an item in its batch and waitForBatchItem answers its own result', async () => {
  const queued = await service.enqueue(mailProvider, 'sendMail', { to: `c-${randomUUID()}@example.com`, subject: 'client', text: 'hello' }, { priority: 'high' });
  expect(queued).toMatchObject({ duplicate: false, batched: true, batchId: `batch:${config.DEFAULT_TENANT}:${mailProvider}:sendMail:high` });

  const item = await service.waitForBatchItem(queued.itemId, { timeoutMs: 20_000 });
  expect(item).toMatchObject({ itemId: queued.itemId, status: 'sent', batchSize: 1 });
});

test('listBookings and listBatchItems list the tenant\'s bookings and sent items with their filters; another tenant sees none of them', async () => {
  const booked = await service.book(
    { amount: 1200, currency: 'usd', customer: 'cus_list', calendarId: 'primary', summary: 'List me', start: '2030-01-01T10:00:00Z', end: '2030-01-01T11:00:00Z', phone: '+14155550100', email: 'list@example.com' },
    { idempotencyKey: `list-${randomUUID()}`, wait: 0 },
  );
  const sent = await service.enqueue(mailProvider, 'sendMail', { to: `l-${randomUUID()}@example.com`, subject: 'list', text: 'hello' }, { priority: 'high', wait: 20_000 });
  expect(sent).toMatchObject({ status: 'sent', batchSize: 1 });

  // Visibility sees a started run within moments.
  const bookings = await eventually(async () => {
    const { bookings: found } = await service.listBookings({ from: new Date(Date.now() - 600_000).toISOString(), limit: 500 });
    return found.some((b) => b.workflowId === booked.workflowId) ? found : undefined;
  }, 15_000);
  expect(bookings.every((b) => b.workflowId.startsWith(`booking:${config.DEFAULT_TENANT}:`))).toBe(true);
  expect((await service.listBookings({ from: '2999-01-01T00:00:00Z' })).bookings).toEqual([]);

  const items = await service.listBatchItems({ provider: mailProvider, status: 'sent', limit: 10 });
  expect(items.items[0]).toMatchObject({ itemId: sent.itemId, provider: mailProvider, operation: 'sendMail', priority: 'high', status: 'sent', error: null, batchSize: 1, batchId: sent.batchId });
  expect((await service.listBatchItems({ provider: mailProvider, status: 'failed' })).items).toEqual([]);

  const other = new SwitchyardClient({ baseUrl: api.url, apiKey: await api.keyFor('operator', `o${randomUUID().slice(0, 8)}`) });
  expect((await other.listBatchItems({ provider: mailProvider })).items).toEqual([]);
  expect((await other.listBookings()).bookings.filter((b) => b.workflowId === booked.workflowId)).toEqual([]);
  const refused = await service.listBatchItems({ status: 'queued' as 'sent' }).catch((err: unknown) => err);
  expect(refused).toMatchObject({ status: 400, error: 'invalid_query' });
  expect(Object.keys((refused as SwitchyardApiError).fields ?? {})).toEqual(['status']);
});

test('errors are typed: 400 names the fields, 403 the missing permission, 404 the unknown id', async () => {
  const invalid = await service.call('stripe', 'createPaymentIntent', { amount: -1 }, { idempotencyKey: randomUUID() }).catch((err: unknown) => err);
  expect(invalid).toBeInstanceOf(SwitchyardApiError);
  expect(invalid).toMatchObject({ status: 400, error: 'invalid_params' });
  expect(Object.keys((invalid as SwitchyardApiError).fields ?? {})).toEqual(expect.arrayContaining(['amount']));

  const forbidden = await service.listEvents().catch((err: unknown) => err);
  expect(forbidden).toMatchObject({ status: 403, error: 'forbidden', reason: 'role "service" may not events:read' });

  const missing = await service.getCall(providerCallWorkflowId(config.DEFAULT_TENANT, 'stripe', `nope-${randomUUID()}`)).catch((err: unknown) => err);
  expect(missing).toBeInstanceOf(SwitchyardApiError);
  expect(missing).toMatchObject({ status: 404, error: 'not_found' });

  const anonymous = new SwitchyardClient({ baseUrl: api.url });
  await expect(anonymous.getCall('call:x:y:z')).rejects.toMatchObject({ status: 401, error: 'unauthenticated' });

  const nowhere = new SwitchyardClient({ baseUrl: 'http://127.0.0.1:1', apiKey: 'sy_x' });
  await expect(nowhere.getCall('call:x:y:z')).rejects.toBeInstanceOf(SwitchyardConnectionError);
});

test('operator reads go through the same client', async () => {
  const operator = new SwitchyardClient({ baseUrl: api.url, apiKey: await api.keyFor('operator'), tenant: config.DEFAULT_TENANT });
  expect((await operator.listEvents({ limit: 5 })).events).toEqual(expect.any(Array));
  expect((await operator.providerHealth()).providers.map((p) => p.provider)).toEqual(expect.arrayContaining(['stripe', mailProvider]));
  expect((await operator.budgets()).budgets.map((b) => b.provider)).toContain('stripe');
  expect((await operator.listAlerts({ state: 'firing' })).alerts).toEqual(expect.any(Array));

  const admin = new SwitchyardClient({ baseUrl: api.url, apiKey: await api.keyFor('admin') });
  const created = await admin.createApiKey({ role: 'service', name: 'client test' });
  expect(created.key).toMatch(/^sy_/);
  expect((await admin.listApiKeys()).keys.map((k) => k.keyId)).toContain(created.keyId);
  await admin.revokeApiKey(created.keyId);
  await expect(new SwitchyardClient({ baseUrl: api.url, apiKey: created.key }).getCall('call:x:y:z')).rejects.toMatchObject({ status: 401 });
});

test('Temporal-native: a plain Temporal client starts providerCall with the exported id rules; the API sees the same call', async () => {
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  try {
    const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter: payloadDataConverterFromKeys(process.env.PAYLOAD_ENCRYPTION_KEYS) });
    const key = `native-${randomUUID()}`;
    const input: ProviderCallInput = { tenant: config.DEFAULT_TENANT, provider: 'stripe', operation: 'createPaymentIntent', params: payment, priority: 'normal' };
    // Charges for this test's customer only: the booking above (wait: 0) may still be charging
    // its own when this starts (with no sticky cache, seen in CI's cache-off step).
    const charged = () => new Set(fakes.requests({ provider: 'stripe', operation: 'createPaymentIntent' }).filter((r) => !r.replayed && JSON.stringify(r.body).includes(payment.customer)).map((r) => r.idempotencyKey));
    const before = charged().size;
    const handle = await client.workflow.start<ProviderCallWorkflow>(
      workflowTypes.providerCall,
      providerCallStartOptions(input, { idempotencyKey: key, taskQueue: config.TEMPORAL_TASK_QUEUE }),
    );
    expect(handle.workflowId).toBe(`call:${config.DEFAULT_TENANT}:stripe:${key}`);
    const result = await handle.result();
    expect(result).toMatchObject({ provider: 'stripe', servedBy: 'stripe', failedOver: false });
    expect(await handle.query(providerCallStatusQuery)).toMatchObject({ status: 'completed', servedBy: 'stripe' });

    // The same key over HTTP is the same workflow: its result, no second charge.
    const over = await service.call('stripe', 'createPaymentIntent', payment, { idempotencyKey: key });
    expect(over).toMatchObject({ workflowId: handle.workflowId, duplicate: true, status: 'completed', result });
    expect(charged().size).toBe(before + 1);
  } finally {
    await connection.close();
  }
});
