/**
 * Geocoding through Google Maps and Yandex Maps on the real Temporal dev server and PostgreSQL,
 * against the fake geocoders: results in the one shared shape (Yandex's "lon lat" turned into
 * lat/lng), the read-through cache (a repeat within the TTL never reaches the provider; another
 * tenant's identical read does), retries for OVER_QUERY_LIMIT / 429 / 5xx and none for refusals
 * (REQUEST_DENIED, invalid key), fan-out batches of at most 25 with a wait flush and dedup, and the
 * seeds' budget ($6 a day) refusing calls once spent.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { batchMetricsRegistry } from '../../activities/batches';
import type { Config } from '../../lib/config/config';
import type { ProviderConfig, ProviderRegistry } from '../../lib/config/registry';
import { hashedPoint } from '../fakes/providers/gazetteer';
import type { FakeProviders } from '../fakes/provider-server';
import { eventually, fakeCredentials, startStack, type RunningApi, type TestStack } from '../support/harness';

/** Unique provider names per run: circuits, budgets and cache rows are shared state in PostgreSQL. */
const run = randomUUID().slice(0, 8);
const names = {
  google: `gmaps-${run}`,
  yandex: `ymaps-${run}`,
  googleBadKey: `gmaps-badkey-${run}`,
  yandexBadKey: `ymaps-badkey-${run}`,
  googleBatch: `gmaps-batch-${run}`,
  googleSized: `gmaps-sized-${run}`,
  googleBudget: `gmaps-budget-${run}`,
};

let stack: TestStack;
let pool: Pool;
let fakes: FakeProviders;
let config: Config;
let registry: ProviderRegistry;
let api: RunningApi;

beforeAll(async () => {
  ({ pool, fakes, config, registry, api } = stack = await startStack({
    // The API's own rate limits off: 30 items polled at once (10 requests a second each) reach 600
    // a minute within seconds, sooner the slower the batch (no sticky cache), and every later
    // request of the suite then got 429.
    config: { CALL_WAIT_MS: 45_000, RATE_LIMIT_PER_IP_PER_MINUTE: 0, RATE_LIMIT_PER_KEY_PER_MINUTE: 0 },
    registry: (r) => {
      const clone = (base: ProviderConfig, name: string, change: Partial<ProviderConfig> = {}): void => {
        r[name] = { ...structuredClone(base), name, ...change };
      };
      // Without the shipped weighted failover to yandex-maps: these tests are about each geocoder
      // on its own (test/integration/weighted-routing.test.ts covers the spread).
      const google: ProviderConfig = { ...r['google-maps']!, failover: null };
      const yandex = r['yandex-maps']!;
      clone(google, names.google);
      clone(yandex, names.yandex);
      clone(google, names.googleBadKey, { credentials: { apiKey: 'TEST_WRONG_GOOGLE_MAPS_KEY' } });
      clone(yandex, names.yandexBadKey, { credentials: { apiKey: 'TEST_WRONG_YANDEX_MAPS_KEY' } });
      // The seeds' batch figures (25 items, 1.5 s) as registered.
      clone(google, names.googleBatch);
      // 25 items, but a long wait, so the size flush is the only one while 30 items arrive on a busy machine.
      clone(google, names.googleSized, { batch: { ...google.batch!, maxWaitMs: { high: 5000, medium: 5000, low: 5000 } } });
      clone(google, names.googleBudget);
    },
    worker: { env: { ...fakeCredentials, TEST_WRONG_GOOGLE_MAPS_KEY: 'AIzaWrongKeyForTests', TEST_WRONG_YANDEX_MAPS_KEY: 'wrong-yandex-key' } },
  }));
});

afterAll(() => stack?.close());

beforeEach(() => fakes.clearFaults());

interface Place {
  formattedAddress: string;
  lat: number;
  lng: number;
  precision: string | null;
  kind: string | null;
  placeId: string | null;
  countryCode: string | null;
  components: Array<{ kind: string; name: string }>;
}

interface CallAnswer {
  status: number;
  json: {
    workflowId?: string;
    status?: string;
    result?: { servedBy: string; cached?: boolean; data: { status: string; results: Place[] } };
    /** A failed call's error; the 429 refusal's `error` is its code instead (checked with toMatchObject). */
    error?: { message: string; type: string | null };
    reason?: string;
  };
}

async function call(provider: string, operation: string, params: unknown, tenantPath = ''): Promise<CallAnswer> {
  const res = await api.fetch(`${tenantPath}/calls/${provider}/${operation}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
    body: JSON.stringify({ params }),
  });
  return { status: res.status, json: (await res.json()) as CallAnswer['json'] };
}

const requestsTo = (provider: 'google-maps' | 'yandex-maps', operation?: string) => fakes.requests({ provider, operation });

test('Google geocodes an address and a point into the shared shape, with the key and address on the wire', async () => {
  const before = requestsTo('google-maps').length;
  const answer = await call(names.google, 'geocode', { address: '1600 Amphitheatre Parkway, Mountain View, CA', language: 'en', region: 'us' });
  expect(answer.json).toMatchObject({ status: 'completed', result: { servedBy: names.google } });
  expect(answer.json.result!.data).toEqual({
    status: 'OK',
    results: [
      {
        formattedAddress: '1600 Amphitheatre Parkway, Mountain View, CA 94043, USA',
        lat: 37.4224764,
        lng: -122.0842499,
        precision: 'ROOFTOP',
        kind: 'street_address',
        placeId: 'ChIJ2eUgeAK6j4ARbn5u_wAGqWA',
        countryCode: 'US',
        components: [
          { kind: 'street_number', name: '1600' },
          { kind: 'route', name: 'Amphitheatre Parkway' },
          { kind: 'locality', name: 'Mountain View' },
          { kind: 'country', name: 'United States', shortName: 'US' },
        ],
      },
    ],
  });
  const sent = requestsTo('google-maps').slice(before);
  expect(sent).toHaveLength(1);
  expect(sent[0]).toMatchObject({
    method: 'GET',
    path: '/maps/api/geocode/json',
    operation: 'geocode',
    query: { address: '1600 Amphitheatre Parkway, Mountain View, CA', key: fakeCredentials.GOOGLE_MAPS_API_KEY, language: 'en', region: 'us' },
  });

  const reverse = await call(names.google, 'reverseGeocode', { lat: 37.4224764, lng: -122.0842499 });
  expect(reverse.json.result!.data.results[0]).toMatchObject({ placeId: 'ChIJ2eUgeAK6j4ARbn5u_wAGqWA', lat: 37.4224764 });
  expect(requestsTo('google-maps', 'reverseGeocode').at(-1)!.query.latlng).toBe('37.4224764,-122.0842499');

  const none = await call(names.google, 'geocode', { address: `nowhere ${run}` });
  expect(none.json).toMatchObject({ status: 'completed', result: { data: { status: 'ZERO_RESULTS', results: [] } } });
});

test("Yandex's \"lon lat\" comes out as lat/lng, and a reverse query is sent as \"lon,lat\"", async () => {
  const answer = await call(names.yandex, 'geocode', { address: 'Москва, улица Новый Арбат, 24' });
  expect(answer.json).toMatchObject({ status: 'completed' });
  expect(answer.json.result!.data).toEqual({
    status: 'OK',
    results: [
      {
        formattedAddress: 'Россия, Москва, улица Новый Арбат, 24',
        lat: 55.753083,
        lng: 37.587614,
        precision: 'exact',
        kind: 'house',
        placeId: null,
        countryCode: 'RU',
        components: [
          { kind: 'country', name: 'Россия' },
          { kind: 'locality', name: 'Москва' },
          { kind: 'street', name: 'улица Новый Арбат' },
          { kind: 'house', name: '24' },
        ],
      },
    ],
  });
  expect(requestsTo('yandex-maps', 'geocode').at(-1)!.query).toMatchObject({
    apikey: fakeCredentials.YANDEX_MAPS_API_KEY,
    geocode: 'Москва, улица Новый Арбат, 24',
    format: 'json',
    lang: 'ru_RU',
  });

  const reverse = await call(names.yandex, 'reverseGeocode', { lat: 55.753083, lng: 37.587614, language: 'en', limit: 1 });
  expect(reverse.json.result!.data.results).toEqual([expect.objectContaining({ lat: 55.753083, lng: 37.587614, countryCode: 'RU' })]);
  expect(requestsTo('yandex-maps', 'reverseGeocode').at(-1)!.query).toMatchObject({ geocode: '37.587614,55.753083', lang: 'en_US', results: '1' });
});

test('a repeat within the TTL is served from the cache; the same address from another tenant is not', async () => {
  for (const [provider, fake] of [[names.google, 'google-maps'], [names.yandex, 'yandex-maps']] as const) {
    const address = `${run} Cache Street 7, Testville`;
    const before = requestsTo(fake, 'geocode').length;
    const first = await call(provider, 'geocode', { address });
    const second = await call(provider, 'geocode', { address });
    expect(second.json.result!.data).toEqual(first.json.result!.data);
    // The repeat is marked cached and costs nothing; the first call paid.
    expect(second.json.result).toMatchObject({ cached: true });
    const costs = await pool.query<{ workflow_id: string; amount: string }>(
      `SELECT workflow_id, amount_usd::text AS amount FROM cost_ledger WHERE workflow_id = ANY($1) AND status = 'settled'`,
      [[first.json.workflowId, second.json.workflowId]],
    );
    expect(Object.fromEntries(costs.rows.map((row) => [row.workflow_id, Number(row.amount)]))).toEqual({
      [first.json.workflowId!]: registry[provider]!.operations.geocode!.costUsd,
      [second.json.workflowId!]: 0,
    });
    expect(first.json.result!.data.results[0]).toMatchObject(hashedPoint(address));
    expect(requestsTo(fake, 'geocode').length).toBe(before + 1);

    const otherTenant = await call(provider, 'geocode', { address }, `/tenants/other-${run}`);
    expect(otherTenant.json).toMatchObject({ status: 'completed' });
    expect(requestsTo(fake, 'geocode').length).toBe(before + 2);
    const { rows } = await pool.query<{ key: string }>('SELECT key FROM provider_cache WHERE key LIKE $1', [
      `%:${provider}:geocode:address=${encodeURIComponent(address)}`,
    ]);
    expect(rows.map((row) => row.key.split(':')[0]).sort()).toEqual([config.DEFAULT_TENANT, `other-${run}`].sort());
  }
});

test('OVER_QUERY_LIMIT (inside a 200), 429 and 5xx are retried until the answer comes', async () => {
  fakes.addFault({ provider: 'google-maps', operation: 'geocode', kind: 'status', status: 200, times: 1 }); // OVER_QUERY_LIMIT in a 200
  fakes.addFault({ provider: 'google-maps', operation: 'geocode', kind: 'status', status: 503, times: 1 });
  const before = requestsTo('google-maps', 'geocode').length;
  const google = await call(names.google, 'geocode', { address: `${run} Retry Road 1` });
  expect(google.json).toMatchObject({ status: 'completed', result: { data: { status: 'OK' } } });
  expect(requestsTo('google-maps', 'geocode').slice(before).map((r) => r.status)).toEqual([200, 503, 200]);

  fakes.addFault({ provider: 'yandex-maps', operation: 'geocode', kind: 'rate-limit', retryAfterSeconds: 1, times: 1 });
  fakes.addFault({ provider: 'yandex-maps', operation: 'geocode', kind: 'status', status: 500, times: 1 });
  const yBefore = requestsTo('yandex-maps', 'geocode').length;
  const yandex = await call(names.yandex, 'geocode', { address: `${run} Retry Road 2` });
  expect(yandex.json).toMatchObject({ status: 'completed', result: { data: { status: 'OK' } } });
  expect(requestsTo('yandex-maps', 'geocode').slice(yBefore).map((r) => r.status)).toEqual([429, 500, 200]);
});

test('REQUEST_DENIED (a wrong Google key) and 403 "Invalid api key" (Yandex) fail at once, without a retry or the key in the error', async () => {
  const before = requestsTo('google-maps', 'geocode').length;
  const google = await call(names.googleBadKey, 'geocode', { address: `${run} Denied Lane 1` });
  expect(google.json).toMatchObject({ status: 'failed', error: { type: 'ProviderRejected' } });
  expect(google.json.error!.message).toMatch(/200 REQUEST_DENIED: The provided API key is invalid/);
  expect(google.json.error!.message).not.toContain('AIzaWrongKeyForTests');
  expect(requestsTo('google-maps', 'geocode').length).toBe(before + 1);

  const yBefore = requestsTo('yandex-maps', 'geocode').length;
  const yandex = await call(names.yandexBadKey, 'geocode', { address: `${run} Denied Lane 2` });
  expect(yandex.json).toMatchObject({ status: 'failed', error: { type: 'ProviderRejected' } });
  expect(yandex.json.error!.message).toMatch(/403 Forbidden: Invalid api key/);
  expect(requestsTo('yandex-maps', 'geocode').length).toBe(yBefore + 1);

  // INVALID_REQUEST is a refusal too (an injected 400 in Google's format).
  fakes.addFault({ provider: 'google-maps', operation: 'geocode', kind: 'validation', times: 1 });
  const invalid = await call(names.google, 'geocode', { address: `${run} Invalid Way 1` });
  expect(invalid.json).toMatchObject({ status: 'failed', error: { type: 'ProviderRejected' } });
  expect(invalid.json.error!.message).toMatch(/400 INVALID_REQUEST/);
});

async function enqueue(provider: string, address: string): Promise<{ itemId: string; duplicate: boolean }> {
  const res = await api.fetch(`/batches/${provider}/geocode`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ params: { address }, priority: 'medium' }),
  });
  expect(res.status).toBe(202);
  return (await res.json()) as { itemId: string; duplicate: boolean };
}

async function itemResult(itemId: string): Promise<{ status: string; result: { status: string; results: Place[] } | null }> {
  return eventually(async () => {
    const body = (await (await api.fetch(`/batches/items/${encodeURIComponent(itemId)}`)).json()) as { status: string; result: { status: string; results: Place[] } | null };
    return body.status === 'sent' || body.status === 'failed' ? body : undefined;
  }, 40_000);
}

/** The batch_size_items histogram of one provider: flushes, items, and flushes of at most 10 / 25 items. */
async function flushSizes(provider: string): Promise<{ flushes: number; items: number; upTo10: number; upTo25: number }> {
  const metric = await batchMetricsRegistry.getMetricsAsJSON();
  const sizes = metric.find((m) => m.name === 'batch_size_items') as { values: Array<{ labels: Record<string, string | number>; value: number; metricName?: string }> } | undefined;
  const mine = (sizes?.values ?? []).filter((v) => v.labels.provider === provider);
  const pick = (suffix: string, le?: number) => mine.find((v) => v.metricName === `batch_size_items${suffix}` && (le === undefined || v.labels.le === le))?.value ?? 0;
  return { flushes: pick('_count'), items: pick('_sum'), upTo10: pick('_bucket', 10), upTo25: pick('_bucket', 25) };
}

test('30 addresses queued at once go out as fan-out flushes of at most 25: one by size, the rest by wait', async () => {
  const before = requestsTo('google-maps', 'geocode').length;
  const items = await Promise.all(Array.from({ length: 30 }, (_, n) => enqueue(names.googleSized, `${run} Batch Avenue ${n}`)));
  const results = await Promise.all(items.map((item) => itemResult(item.itemId)));
  expect(results.every((r) => r.status === 'sent' && r.result?.status === 'OK')).toBe(true);
  expect(requestsTo('google-maps', 'geocode').length - before).toBe(30);
  // Two flushes: 25 items (the size limit), then 5 after the wait.
  expect(await flushSizes(names.googleSized)).toEqual({ flushes: 2, items: 30, upTo10: 1, upTo25: 2 });
  // Each item got its own address's point back.
  expect(results[7]!.result!.results[0]).toMatchObject(hashedPoint(`${run} Batch Avenue 7`));
});

test('a batch of fewer than 25 flushes after the 1.5 s wait; an identical address inside the window is one request', async () => {
  const before = requestsTo('google-maps', 'geocode').length;
  const started = Date.now();
  const first = await enqueue(names.googleBatch, `${run} Wait Street 1`);
  const duplicate = await enqueue(names.googleBatch, `${run} Wait Street 1`);
  const other = await enqueue(names.googleBatch, `${run} Wait Street 2`);
  expect(duplicate).toMatchObject({ itemId: first.itemId, duplicate: true });
  const results = await Promise.all([first, other].map((item) => itemResult(item.itemId)));
  expect(results.map((r) => r.status)).toEqual(['sent', 'sent']);
  // The wait flush, not a size flush: one flush of 2 items, not before the registry's 1.5 s.
  expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
  expect(await flushSizes(names.googleBatch)).toEqual({ flushes: 1, items: 2, upTo10: 1, upTo25: 1 });
  expect(requestsTo('google-maps', 'geocode').length - before).toBe(2);
});

test("the seeds' budget ($6 a day, $150 a month) reserves each call's cost and refuses calls once spent (429 budget_exceeded)", async () => {
  expect(registry[names.googleBudget]!.budget).toEqual({ dailyUsd: 6, monthlyUsd: 150 });
  const ok = await call(names.googleBudget, 'geocode', { address: `${run} Budget Boulevard 1` });
  expect(ok.json).toMatchObject({ status: 'completed' });
  const use = async () => {
    const body = (await (await api.fetch('/budgets')).json()) as { budgets: Array<{ provider: string; daily: { usedUsd: number } }> };
    return body.budgets.find((b) => b.provider === names.googleBudget)!.daily.usedUsd;
  };
  expect(await use()).toBeCloseTo(0.005, 6);

  // Earlier spending today up to 90% of the daily budget ($5.40), as 1079 more geocodes would have left it.
  await pool.query(
    `INSERT INTO cost_ledger (reservation, tenant, provider, operation, workflow_id, amount_usd, status)
     VALUES ($1, $2, $3, 'geocode', $4, 5.395, 'settled')`,
    [`test-spent-${run}`, config.DEFAULT_TENANT, names.googleBudget, `test-spent-${run}`],
  );
  const before = requestsTo('google-maps', 'geocode').length;
  const refused = await call(names.googleBudget, 'geocode', { address: `${run} Budget Boulevard 2` });
  expect(refused.status).toBe(429);
  expect(refused.json).toMatchObject({ error: 'budget_exceeded' });
  expect(refused.json.reason).toMatch(/daily budget: \$5\.40 of \$6\.00/);
  expect(requestsTo('google-maps', 'geocode').length).toBe(before);
});
