/**
 * The shared HTTP core's connection pools (providers/core/http-pool.ts) against real
 * servers: many calls reuse few keep-alive connections (counted by the fake server), gzip answers
 * are decoded and gzip request bodies sent only where declared, HTTP/2 is negotiated by ALPN
 * against a local TLS HTTP/2 server, the outbound (SSRF) policy still guards every connection, and
 * pool use shows up on /metrics.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { ApplicationFailure } from '@temporalio/common';
import { closeProviderConnections, providerMetricsRegistry } from '../../providers/prepare-provider-call';
import type { ProviderCallContext } from '../../providers/core/adapter-types';
import { OutboundPolicy } from '../../lib/security/outbound-policy';
import { loadRegistry, type HttpPoolConfig, type ProviderConfig } from '../../lib/config/registry';
import { serveMetrics } from '../../lib/metrics-server';
import { startFakeProviders, type FakeProviders } from '../fakes/provider-server';
import { sendProviderCall } from '../support/provider-calls';

const registry = loadRegistry({});
const outbound = new OutboundPolicy({ allow: ['127.0.0.1', '::1'], allowHttp: true });
const run = randomUUID().slice(0, 8);

let fake: FakeProviders;

beforeAll(async () => {
  fake = await startFakeProviders();
});

afterAll(async () => {
  await closeProviderConnections();
  await fake.close();
});

beforeEach(() => fake.reset());

/** A generic `http` provider of its own name (pools and metrics are per provider) at `baseUrl`. */
function ctxFor(name: string, baseUrl: string, http: Partial<HttpPoolConfig>, operation: string, policy = outbound): ProviderCallContext {
  const httpbin = registry.httpbin!;
  const provider: ProviderConfig = { ...structuredClone(httpbin), name, baseUrl, http: { ...httpbin.http, ...http } };
  return { provider, operation, credentials: { bearerToken: 'token-secret' }, idempotencyKey: randomUUID(), outbound: policy };
}

async function metricValue(name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await providerMetricsRegistry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { labels: Record<string, string | number>; value: number }[];
  return values.filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want)).reduce((sum, v) => sum + v.value, 0);
}

test('60 calls, 6 at a time, over a pool of 3 connections: at most 3 TCP connections reach the server', async () => {
  const provider = `pooled-${run}`;
  const before = fake.connections();
  const calls = Array.from({ length: 60 }, (_, i) => i);
  for (let i = 0; i < calls.length; i += 6) {
    await Promise.all(
      calls.slice(i, i + 6).map((n) => sendProviderCall(ctxFor(provider, fake.url, { connections: 3 }, 'getAnything'), { pathParams: { id: `n${n}` } })),
    );
  }
  const opened = fake.connections() - before;
  expect(fake.requests({ provider: 'http' })).toHaveLength(60);
  expect(opened).toBeGreaterThanOrEqual(1);
  expect(opened).toBeLessThanOrEqual(3);
  // The pool counts the same connections the server saw, over plain http as HTTP/1.1.
  expect(await metricValue('provider_http_connections_opened_total', { provider, protocol: 'http/1.1' })).toBe(opened);
  // Idle keep-alive connections stay open for the next call.
  expect(await metricValue('provider_http_pool_connections_open', { provider })).toBe(opened);
});

test('requests beyond the pool wait for a connection, and the gauges show it while they do', async () => {
  const provider = `busy-${run}`;
  fake.addFault({ provider: 'http', kind: 'latency', latencyMs: 600, times: 6 });
  const inFlight = Promise.all(
    Array.from({ length: 6 }, (_, n) => sendProviderCall(ctxFor(provider, fake.url, { connections: 2 }, 'getAnything'), { pathParams: { id: `b${n}` } })),
  );
  await new Promise((resolve) => setTimeout(resolve, 250));
  expect(await metricValue('provider_http_pool_connections_open', { provider })).toBe(2);
  expect(await metricValue('provider_http_pool_connections_busy', { provider })).toBe(2);
  expect(await metricValue('provider_http_pool_requests_running', { provider })).toBe(2);
  expect(await metricValue('provider_http_pool_requests_pending', { provider })).toBe(4);
  await inFlight;
  expect(await metricValue('provider_http_pool_requests_running', { provider })).toBe(0);
  expect(await metricValue('provider_http_pool_requests_pending', { provider })).toBe(0);
});

test('answers come gzip-compressed when asked for and are decoded; request bodies are gzipped only where declared', async () => {
  const plain = `plain-${run}`;
  const answered = await sendProviderCall(ctxFor(plain, fake.url, {}, 'postAnything'), { body: { hello: 'world', pad: 'x'.repeat(2000) } });
  expect(answered.data).toMatchObject({ status: 200, body: { method: 'POST', json: { hello: 'world' } } });
  const [sent] = fake.requests({ provider: 'http' });
  expect(sent?.headers['accept-encoding']).toBe('gzip');
  expect(sent?.headers['content-encoding']).toBeUndefined();
  expect(await metricValue('provider_http_gzip_bodies_total', { provider: plain, direction: 'response' })).toBe(1);
  expect(await metricValue('provider_http_gzip_bodies_total', { provider: plain, direction: 'request' })).toBe(0);

  const zipped = `gzip-requests-${run}`;
  fake.reset();
  const body = { hello: 'compressed', pad: 'y'.repeat(2000) };
  const echoed = await sendProviderCall(ctxFor(zipped, fake.url, { gzipRequests: true, gzipMinBytes: 1024 }, 'postAnything'), { body });
  expect(echoed.data).toMatchObject({ status: 200, body: { json: body } });
  expect(fake.requests({ provider: 'http' })[0]?.headers['content-encoding']).toBe('gzip');
  // Below the threshold a body goes as is.
  await sendProviderCall(ctxFor(zipped, fake.url, { gzipRequests: true, gzipMinBytes: 1024 }, 'postAnything'), { body: { small: true } });
  expect(fake.requests({ provider: 'http' })[1]?.headers['content-encoding']).toBeUndefined();
  expect(await metricValue('provider_http_gzip_bodies_total', { provider: zipped, direction: 'request' })).toBe(1);
});

describe('HTTP/2 over TLS (local node:http2 server, self-signed certificate)', () => {
  let dir: string | undefined;
  let cert = '';
  let server: http2.Http2SecureServer | undefined;
  let baseUrl = '';
  const skip = (() => {
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' });
      return null;
    } catch {
      return 'openssl is not installed: the HTTP/2 tests need it to make a self-signed certificate';
    }
  })();

  beforeAll(async () => {
    if (skip) {
      console.warn(`skipping HTTP/2 tests: ${skip}`);
      return;
    }
    dir = mkdtempSync(path.join(tmpdir(), 'switchyard-h2-'));
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile,
        '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
      { stdio: 'ignore' },
    );
    cert = readFileSync(certFile, 'utf8');
    server = http2.createSecureServer({ key: readFileSync(keyFile), cert, allowHTTP1: true }, (req, res) => {
      const answer = JSON.stringify({ httpVersion: req.httpVersion, path: req.url, acceptEncoding: req.headers['accept-encoding'] ?? null });
      const gzip = String(req.headers['accept-encoding'] ?? '').includes('gzip');
      res.writeHead(200, { 'content-type': 'application/json', ...(gzip ? { 'content-encoding': 'gzip' } : {}) });
      res.end(gzip ? gzipSync(answer) : answer);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    baseUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await closeProviderConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Trusts the test certificate for this policy's connections only. */
  const trusting = () => new OutboundPolicy({ allow: ['127.0.0.1'], ca: cert });

  test('allowH2: the provider is reached over HTTP/2 (ALPN h2), gzip answers decoded, connections multiplexed', async () => {
    if (skip) return;
    const provider = `h2-${run}`;
    const policy = trusting();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, n) => sendProviderCall(ctxFor(provider, baseUrl, { allowH2: true, connections: 1 }, 'getAnything', policy), { pathParams: { id: `h${n}` } })),
    );
    for (const result of results) expect(result.data).toMatchObject({ status: 200, body: { httpVersion: '2.0', acceptEncoding: 'gzip' } });
    expect(await metricValue('provider_http_connections_opened_total', { provider, protocol: 'h2' })).toBe(1);
    expect(await metricValue('provider_http_gzip_bodies_total', { provider, direction: 'response' })).toBe(10);
  });

  test('without allowH2 the same server is spoken to over HTTP/1.1', async () => {
    if (skip) return;
    const provider = `h1-${run}`;
    const result = await sendProviderCall(ctxFor(provider, baseUrl, { allowH2: false }, 'getAnything', trusting()), { pathParams: { id: 'one' } });
    expect(result.data).toMatchObject({ status: 200, body: { httpVersion: '1.1' } });
    expect(await metricValue('provider_http_connections_opened_total', { provider, protocol: 'http/1.1' })).toBe(1);
  });

  test('the pool keeps the outbound guard: an address the policy refuses is never connected to', async () => {
    if (skip) return;
    const provider = `guarded-${run}`;
    const strictButTrusting = new OutboundPolicy({ ca: cert });
    let failure: unknown;
    try {
      await sendProviderCall(ctxFor(provider, baseUrl, { allowH2: true }, 'getAnything', strictButTrusting), { pathParams: { id: 'x' } });
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'ProviderMisconfigured', nonRetryable: true });
    expect((failure as ApplicationFailure).details?.[0]).toMatchObject({ code: 'outbound_refused' });
    expect(await metricValue('provider_http_connect_failures_total', { provider, reason: 'refused' })).toBe(1);
    expect(await metricValue('provider_http_connections_opened_total', { provider })).toBe(0);
  });

  test('a certificate the policy does not trust fails the connection (the test CA is scoped to its policy)', async () => {
    if (skip) return;
    const provider = `untrusted-${run}`;
    await expect(sendProviderCall(ctxFor(provider, baseUrl, { allowH2: true }, 'getAnything'), { pathParams: { id: 'x' } })).rejects.toMatchObject({
      type: 'ProviderUnavailable',
    });
  });
});

test('the Stripe SDK goes through the provider’s pool too: reused connections, counted, and guarded', async () => {
  const stripe = registry.stripe!;
  const provider = `stripe-pooled-${run}`;
  const ctx = (policy: OutboundPolicy): ProviderCallContext => ({
    provider: { ...structuredClone(stripe), name: provider, baseUrl: fake.url, http: { ...stripe.http, connections: 2 } },
    operation: 'createPaymentIntent',
    credentials: { apiKey: 'sk_test_fake_0123456789' },
    idempotencyKey: randomUUID(),
    outbound: policy,
  });
  const before = fake.connections();
  for (let n = 0; n < 5; n++) await sendProviderCall(ctx(outbound), { amount: 1000 + n, currency: 'usd' });
  expect(fake.state().charges).toBe(5);
  expect(fake.connections() - before).toBe(1);
  expect(await metricValue('provider_http_connections_opened_total', { provider })).toBe(1);

  // A policy that refuses loopback: the SDK's request never connects, and the failure says why.
  await expect(sendProviderCall(ctx(new OutboundPolicy({ allowHttp: true })), { amount: 1000, currency: 'usd' })).rejects.toMatchObject({
    type: 'ProviderMisconfigured',
    nonRetryable: true,
  });
  expect(fake.state().charges).toBe(5);
  expect(await metricValue('provider_http_connect_failures_total', { provider, reason: 'refused' })).toBe(1);
});

test('pool use is served on the worker’s /metrics endpoint', async () => {
  const provider = `scraped-${run}`;
  await sendProviderCall(ctxFor(provider, fake.url, { connections: 2 }, 'getAnything'), { pathParams: { id: 'm' } });
  const server: Server = await serveMetrics({ registry: providerMetricsRegistry, port: 0 });
  try {
    const { port } = server.address() as AddressInfo;
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toContain(`provider_http_pool_connections_open{provider="${provider}"} 1`);
    expect(text).toContain(`provider_http_pool_requests_pending{provider="${provider}"} 0`);
    expect(text).toContain(`provider_http_connections_opened_total{provider="${provider}",protocol="http/1.1"} 1`);
    expect(text).toMatch(/# TYPE provider_http_pool_connections_busy gauge/);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
