/**
 * The outbound (SSRF) policy end to end, with the real API, worker, Temporal and PostgreSQL, and a
 * configuration that does NOT allow loopback: a refused URL is a 400 that stores nothing; a host
 * name passes at create time but is judged by what it resolves to when the worker connects, so
 * `localhost` (→ 127.0.0.1) dead-letters at once with the reason and nothing reaches the receiver.
 * An allowlist entry with a port (npm start's for the fakes) lets that port through and no other.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Pool } from 'pg';
import type { Config } from '../../lib/config/config';
import { createProbeActivities } from '../../activities/probes';
import { closeProviderConnections } from '../../providers/prepare-provider-call';
import { loadMonitoringConfig } from '../../lib/config/monitoring-config';
import { allowEntryFor, OutboundPolicy, outboundPolicyOf } from '../../lib/security/outbound-policy';
import { loadRegistry } from '../../lib/config/registry';
import { refusedProviderUrls } from '../../workers/worker';
import { eventually, postStripe, registryAt, startApi, startWorker, stripeEvent, testConfig, testPool, type RunningApi, type RunningWorker } from '../support/harness';
import { sendProviderCall } from '../support/provider-calls';

let pool: Pool;
let config: Config;
let worker: RunningWorker;
let api: RunningApi;
let receiver: http.Server;
let port: number;
let hits = 0;

beforeAll(async () => {
  pool = testPool();
  // Plain http stays allowed (the receiver has no TLS); no address range is.
  config = testConfig({ OUTBOUND_ALLOW: [], OUTBOUND_ALLOW_HTTP: true });
  worker = await startWorker(config, pool, { deliveryRetrySchedule: ['500 ms', '500 ms', '500 ms'] });
  api = await startApi(config, pool);
  receiver = http.createServer((_req, res) => {
    hits += 1;
    res.writeHead(200).end();
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  port = (receiver.address() as AddressInfo).port;
});

afterAll(async () => {
  receiver?.close();
  await closeProviderConnections();
  await api?.close();
  await worker?.stop();
  await pool?.end();
});

async function subscriberCount(): Promise<number> {
  const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM subscribers WHERE tenant = $1', [config.DEFAULT_TENANT]);
  return rows[0]!.n;
}

function post(url: string): Promise<Response> {
  return api.fetch('/subscribers', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url }) });
}

test.each([
  ['loopback', 'http://127.0.0.1:9/hook', /loopback/],
  ['private', 'http://10.0.0.5/hook', /private/],
  ['cloud metadata', 'http://169.254.169.254/latest/meta-data/', /link-local/],
  ['IPv6 loopback', 'http://[::1]/hook', /loopback/],
  ['IPv6 unique-local', 'http://[fd12::1]/hook', /unique-local/],
  ['IPv4-mapped IPv6', 'http://[::ffff:192.168.1.1]/hook', /192\.168\.1\.1/],
])('POST /subscribers with a %s URL → 400 naming url, nothing stored', async (_what, url, reason) => {
  const before = await subscriberCount();
  const res = await post(url);
  expect(res.status).toBe(400);
  const body = (await res.json()) as { error: string; reason: string; fields: Record<string, string> };
  expect(body.error).toBe('invalid_request');
  expect(Object.keys(body.fields)).toEqual(['url']);
  expect(body.fields.url).toMatch(reason);
  expect(await subscriberCount()).toBe(before);
});

test('https is required when plain http is off', async () => {
  const strictApi = await startApi(testConfig({ DEFAULT_TENANT: config.DEFAULT_TENANT, OUTBOUND_ALLOW: [], OUTBOUND_ALLOW_HTTP: false }), pool);
  try {
    const res = await strictApi.fetch('/subscribers', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: 'http://hooks.example.com/x' }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { fields: Record<string, string> }).fields.url).toMatch(/https required/);
  } finally {
    await strictApi.close();
  }
});

test('PATCH to a refused URL → 400 and the subscriber keeps its URL', async () => {
  const created = await post('https://hooks.example.com/x');
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };
  const res = await api.fetch(`/subscribers/${id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: 'http://[fe80::1]/x' }) });
  expect(res.status).toBe(400);
  expect(((await res.json()) as { fields: Record<string, string> }).fields.url).toMatch(/link-local/);
  expect(((await (await api.fetch(`/subscribers/${id}`)).json()) as { url: string }).url).toBe('https://hooks.example.com/x');
  await api.fetch(`/subscribers/${id}`, { method: 'DELETE' });
});

test('a name resolving to a loopback address is accepted, then refused at connect time: dead-lettered at once, nothing received', async () => {
  const created = await post(`http://localhost:${port}/hook`);
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };
  const event = stripeEvent();
  expect((await postStripe(api.url, event)).status).toBe(202);
  const delivery = await eventually(async () => {
    const res = await api.fetch(`/deliveries?subscriber=${id}`);
    const { deliveries } = (await res.json()) as { deliveries: Array<{ eventId: string; status: string; attempts: number; lastError: string | null }> };
    const found = deliveries.find((d) => d.eventId === event.id);
    return found && found.status !== 'pending' ? found : undefined;
  }, 30_000);
  // Permanent: no retry schedule, one attempt, the reason names the host and the range.
  expect(delivery).toMatchObject({ status: 'dead_lettered', attempts: 1 });
  expect(delivery.lastError).toMatch(/outbound policy.*localhost.*loopback/);
  expect(hits).toBe(0);
});

test('the worker refuses to start with a provider base URL the policy refuses', async () => {
  const registry = registryAt(`http://127.0.0.1:${port}`);
  expect(refusedProviderUrls(registry, new OutboundPolicy({ allowHttp: true }))[0]).toMatch(/baseUrl.*loopback/);
  expect(refusedProviderUrls(registry, new OutboundPolicy({ allow: ['127.0.0.1'], allowHttp: true }))).toEqual([]);
  await expect(startWorker(config, pool, { registry })).rejects.toThrow(/provider URLs refused by the outbound policy/);
});

test('a generic provider call whose host resolves to a refused address fails permanently, naming the reason', async () => {
  const httpbin = loadRegistry({}).httpbin!;
  hits = 0;
  const call = sendProviderCall(
    {
      provider: { ...httpbin, baseUrl: `http://localhost:${port}` },
      operation: 'getAnything',
      credentials: { bearerToken: 'token' },
      idempotencyKey: 'ssrf-test',
      outbound: new OutboundPolicy({ allowHttp: true }),
    },
    { pathParams: { id: '1' } },
  );
  await expect(call).rejects.toMatchObject({ type: 'ProviderMisconfigured', nonRetryable: true, message: expect.stringMatching(/outbound_refused.*localhost.*loopback/) as unknown });
  expect(hits).toBe(0);
});

test('a health probe goes through the same guard: a host resolving to a refused address is probed as down, nothing reaches it', async () => {
  const name = `probe-ssrf-${randomUUID().slice(0, 8)}`;
  const httpbin = loadRegistry({}).httpbin!;
  const probes = createProbeActivities({
    pool,
    registry: { [name]: { ...httpbin, name, baseUrl: `http://localhost:${port}` } },
    monitoring: loadMonitoringConfig({}),
    outbound: new OutboundPolicy({ allowHttp: true }),
  });
  hits = 0;
  const outcome = await probes.probeProvider({ provider: name });
  expect(outcome).toMatchObject({ ok: false, status: null });
  expect(outcome.error).toMatch(/loopback/);
  expect(hits).toBe(0);
});

describe('an allowlist entry with a port, as npm start writes for the fakes (it allowed the whole of 127.0.0.1)', () => {
  let portConfig: Config;
  let portWorker: RunningWorker;
  let portApi: RunningApi;
  /** Another loopback service (Temporal's, PostgreSQL's …): nothing may reach it. */
  let other: http.Server;
  let otherPort: number;
  let otherHits = 0;

  beforeAll(async () => {
    other = http.createServer((_req, res) => {
      otherHits += 1;
      res.writeHead(200).end();
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    otherPort = (other.address() as AddressInfo).port;
    portConfig = testConfig({ OUTBOUND_ALLOW: [allowEntryFor(`http://127.0.0.1:${port}`)], OUTBOUND_ALLOW_HTTP: true });
    expect(portConfig.OUTBOUND_ALLOW).toEqual([`127.0.0.1:${port}`]);
    portWorker = await startWorker(portConfig, pool, { deliveryRetrySchedule: ['500 ms', '500 ms', '500 ms'] });
    portApi = await startApi(portConfig, pool);
  });

  afterAll(async () => {
    await portApi?.close();
    await portWorker?.stop();
    other?.close();
  });

  const subscribe = (url: string) => portApi.fetch('/subscribers', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url }) });

  test("a subscriber on another loopback port (Temporal's own) is 400 naming the port; on the allowed port it is delivered to", async () => {
    const temporalPort = Number(portConfig.TEMPORAL_ADDRESS.split(':').at(-1));
    for (const [url, reason] of [
      [`http://127.0.0.1:${temporalPort}/`, new RegExp(`127\\.0\\.0\\.1 port ${temporalPort} is a loopback address`)],
      [`http://127.0.0.1:${otherPort}/hook`, new RegExp(`port ${otherPort} is a loopback`)],
      [`http://127.0.0.1/hook`, /port 80 is a loopback/],
      [`http://127.0.0.2:${port}/hook`, /loopback/],
      [`http://[::1]:${port}/hook`, /loopback/],
    ] as const) {
      const res = await subscribe(url);
      expect([url, res.status]).toEqual([url, 400]);
      expect(((await res.json()) as { fields: Record<string, string> }).fields.url).toMatch(reason);
    }
    const created = await subscribe(`http://127.0.0.1:${port}/hook`);
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    hits = 0;
    const event = stripeEvent();
    expect((await postStripe(portApi.url, event)).status).toBe(202);
    const delivery = await eventually(async () => {
      const { deliveries } = (await (await portApi.fetch(`/deliveries?subscriber=${id}`)).json()) as { deliveries: Array<{ eventId: string; status: string }> };
      const found = deliveries.find((d) => d.eventId === event.id);
      return found && found.status !== 'pending' ? found : undefined;
    }, 30_000);
    expect(delivery.status).toBe('delivered');
    expect(hits).toBe(1);
    await portApi.fetch(`/subscribers/${id}`, { method: 'DELETE' });
  });

  test('a name resolving to loopback, on another port, is refused when the worker connects: dead-lettered, nothing reaches that port', async () => {
    otherHits = 0;
    const created = await subscribe(`http://localhost:${otherPort}/hook`);
    expect(created.status).toBe(201); // a name is judged by what it resolves to, when connecting
    const { id } = (await created.json()) as { id: string };
    const event = stripeEvent();
    expect((await postStripe(portApi.url, event)).status).toBe(202);
    const delivery = await eventually(async () => {
      const { deliveries } = (await (await portApi.fetch(`/deliveries?subscriber=${id}`)).json()) as { deliveries: Array<{ eventId: string; status: string; attempts: number; lastError: string | null }> };
      const found = deliveries.find((d) => d.eventId === event.id);
      return found && found.status !== 'pending' ? found : undefined;
    }, 30_000);
    expect(delivery).toMatchObject({ status: 'dead_lettered', attempts: 1 });
    expect(delivery.lastError).toMatch(new RegExp(`outbound policy.*localhost.*port ${otherPort}.*loopback`));
    expect(otherHits).toBe(0);
    await portApi.fetch(`/subscribers/${id}`, { method: 'DELETE' });
  });

  test('a generic provider base URL on another loopback port is refused, at worker start and when called', async () => {
    const policy = outboundPolicyOf(portConfig);
    expect(refusedProviderUrls(registryAt(`http://127.0.0.1:${otherPort}`), policy)[0]).toMatch(new RegExp(`baseUrl.*port ${otherPort} is a loopback`));
    expect(refusedProviderUrls(registryAt(`http://127.0.0.1:${port}`), policy)).toEqual([]);
    await expect(startWorker(portConfig, pool, { registry: registryAt(`http://127.0.0.1:${otherPort}`) })).rejects.toThrow(/provider URLs refused by the outbound policy/);
    otherHits = 0;
    const httpbin = loadRegistry({}).httpbin!;
    const call = sendProviderCall(
      { provider: { ...httpbin, baseUrl: `http://localhost:${otherPort}` }, operation: 'getAnything', credentials: { bearerToken: 'token' }, idempotencyKey: 'ssrf-port-test', outbound: policy },
      { pathParams: { id: '1' } },
    );
    await expect(call).rejects.toMatchObject({ type: 'ProviderMisconfigured', nonRetryable: true, message: expect.stringMatching(/outbound_refused.*localhost.*loopback/) as unknown });
    expect(otherHits).toBe(0);
  });
});
