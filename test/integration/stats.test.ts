/**
 * GET /stats/health, /stats/volume and /stats/spend against the real PostgreSQL, from rows written
 * at known times three days ago (a range nothing else writes to): each bucket holds exactly the
 * seeded figures, empty buckets are zero or null, webhook volume is the caller's tenant's only,
 * and bad ranges (reversed, empty, too many buckets, hostile values) are a 400 that says why.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { Config } from '../../lib/config/config';
import type { ProviderRegistry } from '../../lib/config/registry';
import { registryAt, startApi, testConfig, testPool, type RunningApi } from '../support/harness';
import { insertCallOutcome, insertCost, insertProbe, insertWebhookRow } from '../support/stats-rows';

const run = randomUUID().slice(0, 8);
const provider = `stats-${run}`;
const otherTenant = `other-${run}`;
const HOUR = 3_600_000;
const MIN = 60_000;
/** Three days ago, on an hour boundary. */
const base = new Date(Math.floor((Date.now() - 72 * HOUR) / HOUR) * HOUR);
const at = (ms: number) => new Date(base.getTime() + ms);
const iso = (ms: number) => at(ms).toISOString();

let pool: Pool;
let config: Config;
let registry: ProviderRegistry;
let api: RunningApi;

beforeAll(async () => {
  pool = testPool();
  config = testConfig();
  registry = registryAt('http://127.0.0.1:9', (r) => {
    const stripe = r.stripe!;
    for (const name of Object.keys(r)) delete r[name];
    r[provider] = { ...structuredClone(stripe), name: provider };
  });
  api = await startApi(config, pool, registry);
  for (const [ok, latency] of [[true, 100], [true, 200], [true, 300], [true, 400], [false, 5000]] as const) await insertProbe(pool, provider, at(10 * MIN), ok, latency);
  await insertProbe(pool, provider, at(2 * HOUR + 5 * MIN), true, 50);
  for (const success of [true, true, true, false]) await insertCallOutcome(pool, provider, at(20 * MIN), success);
  await insertCallOutcome(pool, provider, at(20 * MIN), false, 'probe');
  for (const status of ['completed', 'completed', 'failed', 'received'] as const) await insertWebhookRow(pool, config.DEFAULT_TENANT, 'stripe', at(30 * MIN), status);
  for (let i = 0; i < 5; i++) await insertWebhookRow(pool, otherTenant, 'stripe', at(30 * MIN), 'completed');
  await insertCost(pool, config.DEFAULT_TENANT, provider, at(15 * MIN), 2.5);
  await insertCost(pool, otherTenant, provider, at(15 * MIN), 1.25, 'reserved');
  await insertCost(pool, config.DEFAULT_TENANT, provider, at(15 * MIN), 9, 'released');
  await insertCost(pool, config.DEFAULT_TENANT, provider, at(HOUR + MIN), 4);
});

afterAll(async () => {
  await api?.close();
  await pool?.end();
});

async function get(path: string, key?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await api.fetch(path, key ? { headers: { authorization: `Bearer ${key}` } } : {});
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const threeHours = `from=${encodeURIComponent(iso(0))}&to=${encodeURIComponent(iso(3 * HOUR))}&bucket=hour`;

test('health: probe latency p50/p95 and availability, and call success, per provider and hour; empty hours null', async () => {
  const { status, body } = await get(`/stats/health?${threeHours}`);
  expect(status).toBe(200);
  expect(body).toMatchObject({ from: iso(0), to: iso(3 * HOUR), bucket: 'hour', buckets: [iso(0), iso(HOUR), iso(2 * HOUR)] });
  expect(body.providers).toEqual([
    {
      provider,
      probes: [5, 0, 1],
      availability: [0.8, null, 1],
      p50Ms: [200, null, 50],
      p95Ms: [400, null, 50],
      calls: [4, 0, 0],
      callSuccess: [0.75, null, null],
    },
  ]);
});

test('health by minute: the first bucket starts on the minute at or before `from`', async () => {
  const { status, body } = await get(`/stats/health?from=${encodeURIComponent(iso(10 * MIN + 30_000))}&to=${encodeURIComponent(iso(12 * MIN))}&bucket=minute`);
  expect(status).toBe(200);
  expect(body.buckets).toEqual([iso(10 * MIN), iso(11 * MIN)]);
  expect((body.providers as Array<{ probes: number[] }>)[0]!.probes).toEqual([5, 0]);
});

test("volume: the caller's tenant's webhooks only; every tenant's calls without the probes", async () => {
  const mine = await get(`/stats/volume?${threeHours}`);
  expect(mine.status).toBe(200);
  expect(mine.body.webhooks).toEqual({ tenant: config.DEFAULT_TENANT, received: [4, 0, 0], completed: [2, 0, 0], failed: [1, 0, 0] });
  // Calls to the registry's providers (this run's one), whoever made them; the probe outcome left out.
  expect(mine.body.calls).toEqual({ succeeded: [3, 0, 0], failed: [1, 0, 0] });

  const theirs = await get(`/stats/volume?${threeHours}`, await api.keyFor('operator', otherTenant));
  expect(theirs.status).toBe(200);
  expect(theirs.body.webhooks).toEqual({ tenant: otherTenant, received: [5, 0, 0], completed: [5, 0, 0], failed: [0, 0, 0] });

  // A path naming the other tenant is no resource of the caller's.
  expect((await get(`/tenants/${otherTenant}/stats/volume?${threeHours}`, await api.keyFor('operator'))).status).toBe(404);
});

test('spend: reserved and settled costs per provider and hour, released ones left out', async () => {
  const { status, body } = await get(`/stats/spend?${threeHours}`);
  expect(status).toBe(200);
  expect(body.providers).toEqual([{ provider, usd: [3.75, 4, 0] }]);
});

test('the range defaults to the last 60 buckets up to now', async () => {
  const { status, body } = await get('/stats/spend?bucket=hour');
  expect(status).toBe(200);
  expect((body.buckets as string[]).length).toBe(61);
  expect(Date.parse(body.to as string)).toBeLessThanOrEqual(Date.now());
});

test('who may read: operators and admins; a service key is refused, no key is 401', async () => {
  expect((await get(`/stats/health?${threeHours}`, await api.keyFor('operator'))).status).toBe(200);
  expect((await get(`/stats/health?${threeHours}`, await api.keyFor('service'))).status).toBe(403);
  const anonymous = await fetch(`${api.url}/stats/health`);
  expect(anonymous.status).toBe(401);
});

test.each([
  ['reversed range', `from=${encodeURIComponent(iso(HOUR))}&to=${encodeURIComponent(iso(0))}`, 'invalid_range'],
  ['empty range', `from=${encodeURIComponent(iso(0))}&to=${encodeURIComponent(iso(0))}`, 'invalid_range'],
  ['too many buckets', `from=1970-01-01T00:00:00Z&bucket=minute`, 'range_too_large'],
  ['a year by the hour', `from=${encodeURIComponent(iso(-365 * 24 * HOUR))}&to=${encodeURIComponent(iso(0))}&bucket=hour`, 'range_too_large'],
  ['unknown bucket', 'bucket=second', 'invalid_query'],
  ['prototype bucket', 'bucket=__proto__', 'invalid_query'],
  ['constructor bucket', 'bucket=constructor', 'invalid_query'],
  // It passed every route's query policy once: the refusal was written into a plain object's `__proto__`.
  ['prototype parameter', '__proto__=1', 'invalid_query'],
  ['constructor parameter', 'constructor[prototype]=1', 'invalid_query'],
  ['a number for a date', 'from=1733400000000', 'invalid_query'],
  ['a huge year', 'from=99999-01-01T00:00:00Z', 'invalid_query'],
  ['no offset', 'from=2026-01-01T00:00:00', 'invalid_query'],
  ['twice the same parameter', 'bucket=minute&bucket=hour', 'invalid_query'],
])('%s: 400 with a reason', async (_name, query, error) => {
  for (const route of ['health', 'volume', 'spend']) {
    const { status, body } = await get(`/stats/${route}?${query}`);
    expect({ route, status }).toEqual({ route, status: 400 });
    expect(typeof body.reason).toBe('string');
    if (error) expect(body.error).toBe(error);
  }
});

test('year zero (1 BC) and the last day of year 9999 are ranges like any other', async () => {
  const { status, body } = await get('/stats/health?from=0000-01-01T00:00:00Z&to=0000-01-01T05:00:00Z&bucket=hour');
  expect(status).toBe(200);
  expect((body.providers as Array<{ probes: number[] }>)[0]!.probes).toEqual([0, 0, 0, 0, 0]);
});

test('a far-future range within the bound answers zeros', async () => {
  const { status, body } = await get('/stats/volume?from=9999-12-31T00:00:00Z&to=9999-12-31T23:59:59Z&bucket=hour');
  expect(status).toBe(200);
  expect((body.buckets as string[]).length).toBe(24);
  expect((body.calls as { succeeded: number[] }).succeeded.every((n) => n === 0)).toBe(true);
});
