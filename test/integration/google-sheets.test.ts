/**
 * Google Sheets end to end on the real Temporal dev server and PostgreSQL, against the fake Sheets
 * API and token endpoint (service-account flow with a key generated here):
 * - provider calls (`POST /calls/…` → providerCall) for read, write and append; a 429 retried by
 *   Temporal's policy until Google takes the write;
 * - batching: N `writeRange` items to one spreadsheet flush as ONE `values:batchUpdate` carrying N
 *   ranges, each item with its own range's UpdateValuesResponse; two spreadsheets make two
 *   requests; a range Google rejects fails alone; appends are never turned into batch writes;
 * - Sheets change notifications at `/webhooks/google/sheets`: the channel token verified, 202 and
 *   a processWebhook started, the same channel + message number a duplicate, a wrong or missing
 *   token 401 with nothing started.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { Config } from '../../lib/config/config';
import type { ProviderConfig } from '../../lib/config/registry';
import { webhookWorkflowId } from '../../contracts/webhook';
import type { FakeProviders } from '../fakes/provider-server';
import { createTestServiceAccount } from '../support/google-service-account';
import { eventually, fakeCredentials, startStack, waitScale, type RunningApi, type TestStack } from '../support/harness';
import { whenStarted } from '../support/inbox';

/** Unique names per run: circuits, outcomes and batch workflows are shared state. */
const run = randomUUID().slice(0, 8);
const sheetsProvider = `sheets-${run}`;
const channelToken = `sheets-channel-token-${randomUUID()}`;

let stack: TestStack;
let pool: Pool;
let fakes: FakeProviders;
let config: Config;
let api: RunningApi;

beforeAll(async () => {
  ({ pool, fakes, config, api } = stack = await startStack({
    config: { CALL_WAIT_MS: 30_000 },
    registry: (r) => {
      const base: ProviderConfig = r['google-sheets']!;
      r[sheetsProvider] = {
        ...structuredClone(base),
        name: sheetsProvider,
        rateLimitPerSecond: 50,
        // Fixed sizing: these tests count the ranges each request carries (adaptive sizing is batches.test.ts's).
        // The window must hold every item a test sends at once: 400 ms split a batch of four in CI's
        // cache-off step, two suites at a time (the first item went alone).
        batch: { ...base.batch!, adaptiveSize: false, maxSize: 10, maxWaitMs: { high: 2000 * waitScale, medium: 2000 * waitScale, low: 2000 * waitScale } },
      };
    },
    worker: (started) => ({ env: { ...fakeCredentials, GOOGLE_SHEETS_CREDENTIALS_FILE: createTestServiceAccount(started.fakes).keyFile } }),
    api: { secretsEnv: { WEBHOOK_SECRETS_GOOGLE_SHEETS: channelToken } },
  }));
});

afterAll(() => stack?.close());

beforeEach(() => fakes.clearFaults());

interface CallAnswer {
  status: number;
  json: { status?: string; result?: { data: Record<string, unknown> }; error?: { message: string; type: string | null } };
}

async function call(operation: string, params: Record<string, unknown>): Promise<CallAnswer> {
  const res = await api.fetch(`/calls/${sheetsProvider}/${operation}?wait=30000`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
    body: JSON.stringify({ params }),
  });
  return { status: res.status, json: (await res.json()) as CallAnswer['json'] };
}

async function enqueue(operation: string, params: Record<string, unknown>): Promise<{ itemId: string }> {
  const res = await api.fetch(`/batches/${sheetsProvider}/${operation}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ params, priority: 'medium' }),
  });
  expect(res.status).toBe(202);
  return (await res.json()) as { itemId: string };
}

interface ItemAnswer {
  status: string;
  result: Record<string, unknown> | null;
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

const requestsOf = (operation: string) => fakes.requests({ provider: 'google-sheets', operation });
const sheetId = (label: string) => `${label}-${run}`;

describe('provider calls', () => {
  test('write, append and read run as providerCall workflows through the official client', async () => {
    const spreadsheetId = sheetId('calls');
    const written = await call('writeRange', { spreadsheetId, range: 'Sheet1!A1:B1', values: [['sku', 'count']] });
    expect(written.status).toBe(200);
    expect(written.json.result?.data).toMatchObject({ spreadsheetId, updatedRange: 'Sheet1!A1:B1', updatedCells: 2 });
    const appended = await call('appendRows', { spreadsheetId, range: 'Sheet1!A:B', values: [['a-1', 4], ['a-2', 9]] });
    expect(appended.json.result?.data).toMatchObject({ tableRange: 'Sheet1!A1:B1', updates: { updatedRange: 'Sheet1!A2:B3', updatedRows: 2 } });
    const read = await call('readRange', { spreadsheetId, range: 'Sheet1!A1:B3', valueRenderOption: 'UNFORMATTED_VALUE' });
    expect(read.json.result?.data).toEqual({ range: 'Sheet1!A1:B3', majorDimension: 'ROWS', values: [['sku', 'count'], ['a-1', 4], ['a-2', 9]] });
    // The token came from the service-account exchange at the fake, and every API request used it.
    expect(fakes.requests({ provider: 'google-sheets', operation: 'token' }).every((r) => r.status === 200)).toBe(true);
    expect(fakes.state().sheets.tokensIssued).toBeGreaterThanOrEqual(1);
  });

  test('a 429 is retried by Temporal until the write goes through', async () => {
    const spreadsheetId = sheetId('throttled');
    fakes.addFault({ provider: 'google-sheets', operation: 'writeRange', kind: 'rate-limit', retryAfterSeconds: 1, times: 2 });
    const written = await call('writeRange', { spreadsheetId, range: 'Sheet1!C3', values: [['late']] });
    expect(written.status).toBe(200);
    expect(written.json.result?.data).toMatchObject({ updatedRange: 'Sheet1!C3', updatedCells: 1 });
    const attempts = requestsOf('writeRange').filter((r) => r.path.includes(spreadsheetId));
    expect(attempts.map((r) => r.status)).toEqual([429, 429, 200]);
  });
});

describe('batched writes', () => {
  test('N writes to one spreadsheet → one values:batchUpdate with N ranges; each item gets its own range\'s result', async () => {
    const spreadsheetId = sheetId('batch-one');
    const ranges = ['Sheet1!A1', 'Sheet1!B2:C2', 'Sheet2!A1:A2', 'Sheet1!D4'];
    const values = [[['one']], [['two', 'three']], [['four'], ['five']], [[6]]];
    const items = await Promise.all(ranges.map((range, i) => enqueue('writeRange', { spreadsheetId, range, values: values[i] })));
    const results = await Promise.all(items.map((item) => itemResult(item.itemId)));
    expect(results.map((r) => r.status)).toEqual(['sent', 'sent', 'sent', 'sent']);
    expect(results.map((r) => r.batchSize)).toEqual([4, 4, 4, 4]);
    expect(results.map((r) => [r.result?.updatedRange, r.result?.updatedCells])).toEqual([
      ['Sheet1!A1', 1],
      ['Sheet1!B2:C2', 2],
      ['Sheet2!A1:A2', 2],
      ['Sheet1!D4', 1],
    ]);
    const batches = requestsOf('batchUpdate').filter((r) => r.path.includes(spreadsheetId));
    expect(batches).toHaveLength(1);
    const data = (batches[0]!.body as { data: Array<{ range: string }> }).data;
    expect(data.map((d) => d.range).sort()).toEqual([...ranges].sort());
    expect(requestsOf('writeRange').filter((r) => r.path.includes(spreadsheetId))).toHaveLength(0);
  });

  test('writes to two spreadsheets → two requests, one per spreadsheet', async () => {
    const [first, second] = [sheetId('batch-two-a'), sheetId('batch-two-b')];
    const items = await Promise.all([
      enqueue('writeRange', { spreadsheetId: first, range: 'Sheet1!A1', values: [['a1']] }),
      enqueue('writeRange', { spreadsheetId: second, range: 'Sheet1!A1', values: [['b1']] }),
      enqueue('writeRange', { spreadsheetId: first, range: 'Sheet1!A2', values: [['a2']] }),
    ]);
    const results = await Promise.all(items.map((item) => itemResult(item.itemId)));
    expect(results.map((r) => [r.status, r.result?.spreadsheetId, r.result?.updatedRange])).toEqual([
      ['sent', first, 'Sheet1!A1'],
      ['sent', second, 'Sheet1!A1'],
      ['sent', first, 'Sheet1!A2'],
    ]);
    const batches = requestsOf('batchUpdate').filter((r) => r.path.includes(first) || r.path.includes(second));
    expect(batches.map((r) => [r.path, (r.body as { data: unknown[] }).data.length]).sort()).toEqual([
      [`/v4/spreadsheets/${first}/values:batchUpdate`, 2],
      [`/v4/spreadsheets/${second}/values:batchUpdate`, 1],
    ]);
  });

  test('a range Google rejects fails alone: the refused batch is split and the good ranges are written', async () => {
    const spreadsheetId = sheetId('batch-bad');
    const items = await Promise.all([
      enqueue('writeRange', { spreadsheetId, range: 'Sheet1!A1', values: [['ok-1']] }),
      enqueue('writeRange', { spreadsheetId, range: 'NoSuchSheet!A1', values: [['bad']] }),
      enqueue('writeRange', { spreadsheetId, range: 'Sheet1!A2', values: [['ok-2']] }),
    ]);
    const results = await Promise.all(items.map((item) => itemResult(item.itemId)));
    expect(results.map((r) => r.status)).toEqual(['sent', 'failed', 'sent']);
    expect(results[1]!.error).toContain('Unable to parse range: NoSuchSheet!A1');
    expect(results[0]!.result).toMatchObject({ updatedRange: 'Sheet1!A1' });
    expect(requestsOf('batchUpdate').filter((r) => r.path.includes(spreadsheetId)).map((r) => r.status)).toEqual([400]);
    expect(requestsOf('writeRange').filter((r) => r.path.includes(spreadsheetId)).map((r) => r.status).sort()).toEqual([200, 200, 400]);
  });

  test('appendRows items are sent one append each, never as batch writes', async () => {
    const spreadsheetId = sheetId('batch-append');
    const items = await Promise.all([1, 2].map((n) => enqueue('appendRows', { spreadsheetId, range: 'Sheet1!A:A', values: [[`row-${n}`]] })));
    const results = await Promise.all(items.map((item) => itemResult(item.itemId)));
    expect(results.map((r) => r.status)).toEqual(['sent', 'sent']);
    expect(requestsOf('appendRows').filter((r) => r.path.includes(spreadsheetId))).toHaveLength(2);
    expect(requestsOf('batchUpdate').filter((r) => r.path.includes(spreadsheetId))).toHaveLength(0);
  });
});

describe('change notifications at /webhooks/google/sheets', () => {
  const notify = (headers: Record<string, string>) => fetch(`${api.url}/webhooks/google/sheets`, { method: 'POST', headers, body: '' });
  const channelHeaders = (channel: string, message: string, token: string | null): Record<string, string> => ({
    'x-goog-channel-id': channel,
    'x-goog-message-number': message,
    'x-goog-resource-state': 'update',
    'x-goog-resource-id': `res-${run}`,
    'x-goog-resource-uri': 'https://www.googleapis.com/drive/v3/files/sheet?alt=json',
    'x-goog-changed': 'content',
    ...(token === null ? {} : { 'x-goog-channel-token': token }),
  });
  const ledgerRows = async (eventId: string) =>
    (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_events WHERE tenant = $1 AND provider = $2 AND event_id = $3', [config.DEFAULT_TENANT, 'google-sheets', eventId])).rows[0]!.n;

  test('the right channel token → 202 and a processWebhook (sheets.update); the same channel + message number → 200 duplicate', async () => {
    const channel = `chan-${run}`;
    const res = await notify(channelHeaders(channel, '17', channelToken));
    expect(res.status).toBe(202);
    const body = (await res.json()) as { workflowId: string };
    expect(body.workflowId).toBe(webhookWorkflowId(config.DEFAULT_TENANT, 'google-sheets', `${channel}:17`));
    const status = (await (await whenStarted(api.workflows, body.workflowId)).result()) as { status: string; eventType: string; outcome: string };
    expect(status).toMatchObject({ status: 'completed', eventType: 'sheets.update', outcome: 'unhandled' });
    expect(await ledgerRows(`${channel}:17`)).toBe(1);

    const again = await notify(channelHeaders(channel, '17', channelToken));
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ workflowId: body.workflowId, duplicate: true });
    expect(await ledgerRows(`${channel}:17`)).toBe(1);
  });

  test('a wrong or missing channel token → 401 and nothing starts', async () => {
    const channel = `chan-bad-${run}`;
    for (const token of [`${channelToken}x`, 'short', null]) {
      const res = await notify(channelHeaders(channel, '3', token));
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: 'invalid_signature' });
    }
    const workflowId = webhookWorkflowId(config.DEFAULT_TENANT, 'google-sheets', `${channel}:3`);
    await expect(api.workflows.getHandle(workflowId).describe()).rejects.toThrow(/not found/i);
    expect(await ledgerRows(`${channel}:3`)).toBe(0);
  });
});
