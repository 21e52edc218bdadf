/**
 * Metrics hygiene: anyone could grow the API's metrics, and read them. One
 * unauthenticated POST /tenants/<random>/webhooks/stripe added about 14 series, because the route
 * label held the path as sent; and /metrics on the public port listed every tenant's name.
 * Now HTTP metrics are labelled by route template (`unmatched` when no route answered), methods
 * outside the usual set count as `other`, and metrics are served on their own port
 * (API_METRICS_PORT, bound to 127.0.0.1 unless METRICS_HOST says otherwise), never on PORT.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Pool } from 'pg';
import { loadConfig, type Config } from '../../lib/config/config';
import { serveMetrics } from '../../lib/metrics-server';
import { assertApiBuilt, startApiProcess, type ApiProcess } from '../support/api-process';
import { startApi, testConfig, testPool, type RunningApi } from '../support/harness';

let pool: Pool;
let config: Config;
let api: RunningApi;
let key: string;

beforeAll(async () => {
  pool = testPool();
  // No rate limits: 1 000 requests from one address must keep answering as the first ones did.
  config = testConfig({ RATE_LIMIT_PER_IP_PER_MINUTE: 0, RATE_LIMIT_PER_KEY_PER_MINUTE: 0 });
  api = await startApi(config, pool);
  key = await api.keyFor('admin');
});

afterAll(async () => {
  await api?.close();
  await pool?.end();
});

interface Probe {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** A fresh name every call: a valid tenant, provider or source name nobody configured. */
const name = (): string => `r${randomBytes(6).toString('hex')}`;
const json = { 'content-type': 'application/json' };

/** Every kind of request a stranger (or a caller with a key) can send with names of their choosing. */
const kinds: Array<() => Probe> = [
  // A configured source under a random tenant: no secret there, 503 (webhooks_received_total{provider="stripe"}).
  () => ({ method: 'POST', path: `/tenants/${name()}/webhooks/stripe`, headers: { ...json, 'stripe-signature': 't=1,v1=00' }, body: '{}' }),
  () => ({ method: 'POST', path: `/tenants/${name()}/webhooks/${name()}`, headers: json, body: '{}' }),
  () => ({ method: 'POST', path: `/tenants/${name()}/webhooks/generic/${name()}`, headers: json, body: '{}' }),
  () => ({ method: 'POST', path: `/tenants/${name()}/webhooks/google/${name()}`, headers: json, body: '{}' }),
  () => ({ method: 'POST', path: `/webhooks/${name()}`, headers: json, body: '{}' }),
  () => ({ method: 'POST', path: `/webhooks/generic/${name()}`, headers: json, body: '{}' }),
  () => ({ method: 'POST', path: `/tenants/Bad${name()}/webhooks/stripe`, headers: json, body: '{}' }),
  () => ({ method: 'GET', path: `/${name()}/${name()}?${name()}=${name()}` }),
  () => ({ method: 'GET', path: `/tenants/${name()}/subscribers` }),
  () => ({ method: 'GET', path: `/tenants/${name()}/subscribers`, headers: { authorization: `Bearer ${key}` } }),
  // The caller's own tenant reaches the route (another tenant's is refused before any route: unmatched).
  () => ({ method: 'GET', path: `/tenants/${config.DEFAULT_TENANT}/subscribers`, headers: { authorization: `Bearer ${key}` } }),
  () => ({ method: 'GET', path: `/tenants/${name()}/${name()}`, headers: { authorization: `Bearer ${key}` } }),
  () => ({ method: 'POST', path: `/calls/${name()}/${name()}`, headers: { ...json, authorization: `Bearer ${key}` }, body: '{}' }),
  () => ({ method: 'POST', path: `/tenants/${config.DEFAULT_TENANT}/batches/${name()}/${name()}`, headers: { ...json, authorization: `Bearer ${key}` }, body: '{"params":{}}' }),
  () => ({ method: 'PROPFIND', path: `/tenants/${name()}/webhooks/stripe` }),
  () => ({ method: 'GET', path: `/console/${name()}` }),
];

async function send(probe: Probe): Promise<number> {
  const res = await fetch(`${api.url}${probe.path}`, { method: probe.method, headers: probe.headers, body: probe.body });
  await res.arrayBuffer();
  return res.status;
}

/**
 * The series of every counter and histogram (what requests record), one key per series. Gauges are
 * read from PostgreSQL at scrape time (other suites write those tables), and nodejs_/process_ are
 * the runtime's own.
 */
function requestSeries(text: string): Set<string> {
  const gauges = new Set([...text.matchAll(/^# TYPE (\S+) gauge$/gm)].map((m) => m[1]!));
  const series = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const family = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0];
    if (family.startsWith('nodejs_') || family.startsWith('process_') || gauges.has(family)) continue;
    series.add(line.slice(0, line.lastIndexOf(' ')));
  }
  return series;
}

test('1 000 requests with random tenants, sources, providers, paths and methods add no series', async () => {
  // Warm-up: every kind twice, so the label values each kind produces exist.
  const statuses: number[] = [];
  for (let round = 0; round < 2; round++) for (const kind of kinds) statuses.push(await send(kind()));
  expect(statuses.filter((s) => s >= 500 && s !== 503)).toEqual([]); // 503: the random tenant has no Stripe secret
  const before = requestSeries(await api.scrapeMetrics());
  expect(before.size).toBeGreaterThan(0);

  const sentNames: string[] = [];
  const queue = Array.from({ length: 1000 }, (_, i) => kinds[i % kinds.length]!());
  for (const probe of queue) sentNames.push(...(probe.path.match(/r[0-9a-f]{12}/g) ?? []));
  const workers = Array.from({ length: 8 }, async () => {
    for (let probe = queue.shift(); probe; probe = queue.shift()) await send(probe);
  });
  await Promise.all(workers);

  const text = await api.scrapeMetrics();
  const after = requestSeries(text);
  expect([...after].filter((s) => !before.has(s))).toEqual([]);
  expect(after.size).toBe(before.size);
  // Route templates, never what was sent; no name a caller chose appears anywhere.
  expect(text).toContain('route="/tenants/:tenant/webhooks/:source"');
  expect(text).toContain('route="/tenants/:tenant/subscribers"');
  expect(text).toContain('route="unmatched"');
  expect(text).toContain('method="other"');
  expect(text).toMatch(/webhooks_received_total\{provider="stripe",outcome="not_configured"\} \d+/);
  // A path naming no configured source counts under provider `unknown`; every configured source's outcomes start at zero.
  expect(text).toMatch(/webhooks_received_total\{provider="unknown",outcome="unknown_source"\} [1-9]\d*/);
  expect(text).toMatch(/webhooks_received_total\{provider="github",outcome="duplicate"\} \d+/);
  for (const status of ['pending', 'dead_lettered']) expect(text).toMatch(new RegExp(`deliveries_open\\{status="${status}"\\} \\d+`));
  expect(sentNames.length).toBeGreaterThan(1000);
  expect(sentNames.filter((n) => text.includes(n))).toEqual([]);
}, 120_000);

test('the public port serves no metrics: GET /metrics there names no tenant, with or without a key', async () => {
  await send(kinds[0]!()); // something for the metrics to show
  for (const headers of [{}, { authorization: `Bearer ${key}` }] as Array<Record<string, string>>) {
    const res = await fetch(`${api.url}/metrics`, { headers });
    const body = await res.text();
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(body).not.toContain('# HELP');
    expect(body).not.toContain(config.DEFAULT_TENANT);
  }
  expect(await api.scrapeMetrics()).toContain('# HELP http_request_duration_seconds');
});

test('metrics listen on 127.0.0.1 unless METRICS_HOST says otherwise', async () => {
  expect(loadConfig({}).METRICS_HOST).toBe('127.0.0.1');
  expect(loadConfig({}).API_METRICS_PORT).toBe(9463);
  expect(loadConfig({ METRICS_HOST: '0.0.0.0' }).METRICS_HOST).toBe('0.0.0.0');
  expect(() => loadConfig({ METRICS_HOST: 'metrics.example.com' })).toThrow(/METRICS_HOST/);
  const server = await serveMetrics({ registry: api.metrics.registry, port: 0 });
  try {
    expect((server.address() as AddressInfo).address).toBe('127.0.0.1');
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

describe('the API process', () => {
  let processApi: ApiProcess | undefined;

  afterAll(async () => {
    processApi?.child.kill('SIGTERM');
    await processApi?.exit;
  });

  test('serves metrics on API_METRICS_PORT at 127.0.0.1, and not on PORT', async () => {
    assertApiBuilt();
    processApi = await startApiProcess(config, {}, 'http://127.0.0.1:9', { API_METRICS_PORT: '0' });
    expect(processApi.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const tenant = name();
    expect((await fetch(`${processApi.url}/tenants/${tenant}/webhooks/stripe`, { method: 'POST', headers: json, body: '{}' })).status).toBe(503);
    const scraped = await fetch(`${processApi.metricsUrl}/metrics`);
    expect(scraped.status).toBe(200);
    const text = await scraped.text();
    expect(text).toContain('route="/tenants/:tenant/webhooks/:source"');
    expect(text).not.toContain(tenant);
    const onPublicPort = await fetch(`${processApi.url}/metrics`);
    expect(onPublicPort.status).toBe(401);
    expect(await onPublicPort.text()).not.toContain('# HELP');
  });
});
