/**
 * Airtable on the real Temporal dev server and PostgreSQL, against the fake Airtable API
 * (test/fakes/providers/airtable.ts):
 * - batching: N `createRecord` items queued with POST /batches → ceil(N/10) `POST /v0/{base}/{table}`
 *   requests (Airtable's limit), each item with its own record id; a record Airtable refuses makes
 *   the whole request fail (nothing created), the flush is split and only that item fails;
 * - a single record through POST /calls (providerCall), with typecast;
 * - Airtable's error bodies classified: 403 model-not-found fails at once; a 429 without
 *   Retry-After is retried after Airtable's 30 s penalty (checked on the adapter, not waited for);
 * - bad and hostile params refused with 400 before anything starts; another tenant's key sees 404.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { ProviderConfig } from '../../lib/config/registry';
import { OutboundPolicy } from '../../lib/security/outbound-policy';
import { airtableRateLimitPenaltyMs } from '../../providers/airtable/adapter';
import type { FakeProviders } from '../fakes/provider-server';
import { eventually, fakeCredentials, startStack, type RunningApi, type TestStack } from '../support/harness';
import { sendProviderCall } from '../support/provider-calls';

/** Per-run names: batch workflows and circuits are shared state. */
const run = randomUUID().slice(0, 8);
const provider = `airtable-${run}`;
const baseId = 'appSwitchyard0001';

let stack: TestStack;
let fakes: FakeProviders;
let api: RunningApi;

beforeAll(async () => {
  ({ fakes, api } = stack = await startStack({
    config: { CALL_WAIT_MS: 30_000 },
    registry: (r) => {
      const base: ProviderConfig = r.airtable!;
      // A short wait, so the last partial batch of each test flushes quickly; fixed sizing, since the
      // tests count the records each request carries (adaptive sizing is batches.test.ts's).
      r[provider] = { ...structuredClone(base), name: provider, batch: { ...base.batch!, adaptiveSize: false, maxWaitMs: { high: 1000, medium: 1000, low: 1000 } } };
    },
  }));
});

afterAll(() => stack?.close());

beforeEach(() => fakes.clearFaults());

async function enqueue(params: Record<string, unknown>): Promise<{ status: number; json: { itemId?: string; error?: unknown } }> {
  const res = await api.fetch(`/batches/${provider}/createRecord`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ params, priority: 'medium' }),
  });
  return { status: res.status, json: (await res.json()) as { itemId?: string } };
}

interface ItemAnswer {
  status: string;
  result: { id?: string; createdTime?: string } | null;
  error: string | null;
  batchSize: number;
}

function itemResult(itemId: string): Promise<ItemAnswer> {
  return eventually(async () => {
    const res = await api.fetch(`/batches/items/${encodeURIComponent(itemId)}`);
    const body = (await res.json()) as ItemAnswer;
    return body.status === 'sent' || body.status === 'failed' ? body : undefined;
  }, 30_000);
}

const requestsTo = (table: string) => fakes.requests({ provider: 'airtable' }).filter((r) => r.path === `/v0/${baseId}/${encodeURIComponent(table)}`);

test('25 queued records → 3 requests of at most 10 (10, 10, 5); each item gets its own record id', async () => {
  const table = `Leads ${run}`;
  const queued = await Promise.all(Array.from({ length: 25 }, (_, i) => enqueue({ baseId, table, fields: { Name: `lead ${i}`, Score: i } })));
  expect(queued.map((q) => q.status)).toEqual(Array(25).fill(202));
  const results = await Promise.all(queued.map((q) => itemResult(q.json.itemId!)));
  expect(results.every((r) => r.status === 'sent')).toBe(true);

  const requests = requestsTo(table);
  expect(requests).toHaveLength(Math.ceil(25 / 10));
  const sizes = requests.map((r) => (r.body as { records: unknown[] }).records.length);
  expect(sizes).toEqual([10, 10, 5]);
  expect(requests[0]!.headers.authorization).toBe(`Bearer ${fakeCredentials.AIRTABLE_ACCESS_TOKEN}`);

  // Each item's record is the one Airtable created for its own fields (answers come in the order sent).
  const held = new Map(fakes.airtableRecords(baseId, table).map((record) => [record.id, record.fields]));
  expect(held.size).toBe(25);
  results.forEach((r, i) => {
    expect(r.result!.id).toMatch(/^rec[A-Za-z0-9]{14}$/);
    expect(held.get(r.result!.id!)).toEqual({ Name: `lead ${i}`, Score: i });
  });
  expect(results.map((r) => r.batchSize).sort((a, b) => a - b)).toEqual([...Array<number>(5).fill(5), ...Array<number>(20).fill(10)]);
});

test('a record Airtable refuses (422 UNKNOWN_FIELD_NAME) fails alone: the request created nothing, the flush is split', async () => {
  const table = `Split ${run}`;
  const queued = await Promise.all([
    enqueue({ baseId, table, fields: { Name: 'good 1' } }),
    enqueue({ baseId, table, fields: { 'Unknown column': 'x' } }),
    enqueue({ baseId, table, fields: { Name: 'good 2' } }),
  ]);
  const results = await Promise.all(queued.map((q) => itemResult(q.json.itemId!)));
  expect(results.map((r) => r.status)).toEqual(['sent', 'failed', 'sent']);
  expect(results[1]!.error).toMatch(/422 UNKNOWN_FIELD_NAME: Unknown field name: "Unknown column"/);
  const requests = requestsTo(table);
  expect(requests[0]!.status).toBe(422);
  expect((requests[0]!.body as { records: unknown[] }).records).toHaveLength(3);
  expect(requests.slice(1).map((r) => r.status).sort()).toEqual([200, 200, 422]);
  expect(fakes.airtableRecords(baseId, table).map((record) => record.fields.Name).sort()).toEqual(['good 1', 'good 2']);
});

test('one record through POST /calls (providerCall) with typecast; 403 model-not-found fails at once', async () => {
  const res = await api.fetch('/calls/airtable/createRecord', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
    body: JSON.stringify({ params: { baseId, table: 'tblContacts0001', fields: { Name: 'Ada', Tags: 'vip' }, typecast: true } }),
  });
  const answer = (await res.json()) as { status: string; result: { data: { id: string } } };
  expect(answer).toMatchObject({ status: 'completed', result: { data: { id: expect.stringMatching(/^rec/) as unknown } } });
  const [sent] = requestsTo('tblContacts0001').slice(-1);
  expect(sent!.body).toEqual({ records: [{ fields: { Name: 'Ada', Tags: 'vip' } }], typecast: true });

  const missing = await api.fetch('/calls/airtable/createRecord', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
    body: JSON.stringify({ params: { baseId, table: 'missing table', fields: { Name: 'x' } } }),
  });
  const failed = (await missing.json()) as { status: string; error: { type: string; message: string } };
  expect(failed).toMatchObject({ status: 'failed', error: { type: 'ProviderRejected' } });
  expect(failed.error.message).toMatch(/403 INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND/);
  expect(requestsTo('missing table')).toHaveLength(1);
});

test("a 429 RATE_LIMIT_REACHED without Retry-After is retried after Airtable's 30 s penalty", async () => {
  fakes.addFault({ provider: 'airtable', kind: 'status', status: 429, times: 1 });
  const config = stack.registry.airtable!;
  const call = sendProviderCall(
    {
      provider: config,
      operation: 'createRecord',
      credentials: { accessToken: fakeCredentials.AIRTABLE_ACCESS_TOKEN! },
      idempotencyKey: randomUUID(),
      outbound: new OutboundPolicy({ allow: ['127.0.0.1'], allowHttp: true }),
    },
    { baseId, table: 'Throttled', fields: { Name: 'x' } },
  );
  const failure = await call.then(
    () => null,
    (error: unknown) => error,
  );
  expect(failure).toBeInstanceOf(ApplicationFailure);
  expect(failure).toMatchObject({ type: 'ProviderThrottled', nonRetryable: false, nextRetryDelay: airtableRateLimitPenaltyMs });
  expect((failure as ApplicationFailure).message).toMatch(/429 RATE_LIMIT_REACHED/);
});

test('bad and hostile params are refused with 400 and a reason, nothing queued or sent; another tenant sees 404', async () => {
  const before = fakes.requests({ provider: 'airtable' }).length;
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ baseId: 'nope', table: 't', fields: { Name: 'x' } }, /baseId/],
    [{ baseId, table: 't', fields: {} }, /at least one field/],
    [{ baseId, table: 't', fields: JSON.parse('{"__proto__": {"polluted": true}}') as unknown }, /__proto__/],
    [{ baseId, table: '', fields: { Name: 'x' } }, /table/],
  ];
  for (const [params, reason] of cases) {
    const answer = await enqueue(params);
    expect(answer.status).toBe(400);
    expect(JSON.stringify(answer.json)).toMatch(reason);
  }
  // The raw JSON body, as a client would send it: the parser keeps "__proto__" as an own key.
  const raw = await api.fetch(`/batches/${provider}/createRecord`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: `{"priority":"medium","params":{"baseId":"${baseId}","table":"t","fields":{"__proto__":{"x":1},"Name":"y"}}}`,
  });
  expect(raw.status).toBe(400);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect((await api.fetch('/batches/__proto__/createRecord', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"params":{}}' })).status).toBe(404);
  expect(fakes.requests({ provider: 'airtable' })).toHaveLength(before);

  // A constructor-named table is only a name: sent URL-encoded, it gets its record.
  const queued = await enqueue({ baseId, table: 'constructor', fields: { Name: 'z' } });
  const result = await itemResult(queued.json.itemId!);
  expect(result.status).toBe('sent');
  const otherKey = await api.keyFor('admin', `o${run}`);
  const asOther = await fetch(`${api.url}/batches/items/${encodeURIComponent(queued.json.itemId!)}`, { headers: { authorization: `Bearer ${otherKey}` } });
  expect(asOther.status).toBe(404);
});
