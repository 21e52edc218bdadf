/**
 * The webhook intake (api/webhook-intake.ts) runs on node:http ahead of Express's routing and body
 * parser; these are the things Express used to do for it, checked on the real API and PostgreSQL:
 * Express's path matching (case, trailing slash, percent-encoding), compressed bodies, a refused
 * body read to its end on a connection that stays usable, the app's security headers, the route
 * template in metrics and the request log line, and what falls through to the app.
 */
import http from 'node:http';
import { gzipSync, deflateSync, brotliCompressSync } from 'node:zlib';
import { Writable } from 'node:stream';
import type { Pool } from 'pg';
import type { Config } from '../../lib/config/config';
import { createLogger } from '../../lib/logger';
import { createApp } from '../../api/app';
import { createApiMetrics } from '../../api/metrics';
import { createWebhookSecrets } from '../../api/webhook-secrets';
import { loadWebhookSources, type WebhookSources } from '../../api/webhook-sources';
import { WorkflowStarter } from '../../lib/temporal/workflow-starter';
import { Connection } from '@temporalio/client';
import { signStripe, startApi, stripeEvent, testConfig, testPool, TEST_STRIPE_SECRET, type RunningApi } from '../support/harness';

let pool: Pool;
let config: Config;
let api: RunningApi;

beforeAll(async () => {
  pool = testPool();
  config = testConfig({ WEBHOOK_BODY_LIMIT_BYTES: 4096 });
  api = await startApi(config, pool);
});

afterAll(async () => {
  // No worker drains these rows: they go, so that no other suite's drainer meets them.
  await pool?.query('DELETE FROM webhook_events WHERE tenant = $1 AND started_at IS NULL', [config.DEFAULT_TENANT]);
  await api?.close();
  await pool?.end();
});

function signed(event = stripeEvent()): { body: string; signature: string; id: string } {
  const body = JSON.stringify(event);
  return { body, signature: signStripe(body), id: event.id as string };
}

async function post(path: string, body: string | Buffer, headers: Record<string, string>): Promise<Response> {
  return fetch(`${api.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
}

test('Express path matching: any case, a trailing slash, a percent-encoded source name', async () => {
  for (const path of ['/WEBHOOKS/stripe', '/webhooks/stripe/', '/webhooks/%73tripe', `/tenants/${config.DEFAULT_TENANT}/Webhooks/stripe/`]) {
    const { body, signature } = signed();
    const res = await post(path, body, { 'stripe-signature': signature });
    expect([path, res.status]).toEqual([path, 202]);
  }
  // Not webhook paths: an empty source, an extra segment, a doubled slash: the app's 401 or 404.
  for (const path of ['/webhooks/', '/webhooks/stripe/extra', '//webhooks/stripe']) {
    const res = await post(path, '{}', {});
    expect([path, [401, 404].includes(res.status)]).toEqual([path, true]);
  }
});

test('a compressed body (gzip, deflate, br) is inflated and verified; an unknown encoding is 415 and writes nothing', async () => {
  for (const [encoding, compress] of [
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ] as const) {
    const { body, signature } = signed();
    const res = await post('/webhooks/stripe', compress(Buffer.from(body)), { 'stripe-signature': signature, 'content-encoding': encoding });
    expect([encoding, res.status]).toEqual([encoding, 202]);
  }
  const { body, signature, id } = signed();
  const res = await post('/webhooks/stripe', body, { 'stripe-signature': signature, 'content-encoding': 'x-unknown' });
  expect(res.status).toBe(415);
  expect(await res.json()).toMatchObject({ error: 'unreadable_body', reason: expect.stringContaining('x-unknown') as unknown });
  const { rowCount } = await pool.query('SELECT 1 FROM webhook_events WHERE event_id = $1', [id]);
  expect(rowCount).toBe(0);
});

test('a body over the limit is 413, also when it inflates past it, and the keep-alive connection still serves the next webhook', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const send = (body: Buffer, headers: Record<string, string>): Promise<{ status: number; text: string; socket: unknown }> =>
    new Promise((resolve, reject) => {
      const req = http.request(`${api.url}/webhooks/stripe`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': String(body.length), ...headers } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve({ status: res.statusCode!, text, socket: req.socket }));
      });
      req.on('error', reject);
      req.end(body);
    });
  try {
    const big = Buffer.alloc(10_000, 'a');
    const tooLarge = await send(big, { 'stripe-signature': 'x' });
    expect(tooLarge.status).toBe(413);
    expect(JSON.parse(tooLarge.text)).toMatchObject({ error: 'body_too_large' });
    const bomb = await send(gzipSync(Buffer.alloc(100_000, ' ')), { 'stripe-signature': 'x', 'content-encoding': 'gzip' });
    expect(bomb.status).toBe(413);
    const { body, signature } = signed();
    const next = await send(Buffer.from(body), { 'stripe-signature': signature });
    expect(next.status).toBe(202);
    // The same socket carried all three.
    expect(next.socket).toBe(tooLarge.socket);
  } finally {
    agent.destroy();
  }
});

test('answers carry the app security headers and JSON; metrics name the route template', async () => {
  const { body, signature } = signed();
  const res = await post(`/tenants/${config.DEFAULT_TENANT}/webhooks/stripe`, body, { 'stripe-signature': signature });
  expect(res.status).toBe(202);
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('content-security-policy')).toBeTruthy();
  expect(res.headers.get('x-powered-by')).toBeNull();
  const refused = await post('/webhooks/no-such-source', '{}', {});
  expect(refused.status).toBe(404);
  expect(refused.headers.get('x-content-type-options')).toBe('nosniff');
  // Helmet's headers, read once for the intake, are the ones the app sets on its own answers.
  const helmetHeaders = [
    'content-security-policy',
    'cross-origin-opener-policy',
    'cross-origin-resource-policy',
    'origin-agent-cluster',
    'referrer-policy',
    'strict-transport-security',
    'x-content-type-options',
    'x-dns-prefetch-control',
    'x-download-options',
    'x-frame-options',
    'x-permitted-cross-domain-policies',
    'x-xss-protection',
  ];
  const appAnswer = await fetch(`${api.url}/webhooks/stripe`);
  expect(appAnswer.status).toBe(401);
  const valuesOf = (headers: Headers): Array<[string, string | null]> => helmetHeaders.map((name) => [name, headers.get(name)]);
  expect(valuesOf(res.headers)).toEqual(valuesOf(appAnswer.headers));
  expect(valuesOf(refused.headers)).toEqual(valuesOf(appAnswer.headers));
  expect(valuesOf(res.headers).filter(([, value]) => value === null)).toEqual([]);
  const text = await api.scrapeMetrics();
  expect(text).toMatch(/http_requests_total\{method="POST",route="\/tenants\/:tenant\/webhooks\/:source",status="2xx"\} [1-9]/);
  expect(text).toMatch(/http_requests_total\{method="POST",route="\/webhooks\/:source",status="4xx"\} [1-9]/);
  expect(text).not.toContain('no-such-source');
});

test('what the intake does not take goes to the app: other methods, a malformed URL, a path tenant that is no tenant', async () => {
  expect((await fetch(`${api.url}/webhooks/stripe`)).status).toBe(401);
  const malformed = await post('/webhooks/%ZZ', '{}', {});
  expect(malformed.status).toBe(400);
  expect(await malformed.json()).toMatchObject({ error: 'invalid_url' });
  const badTenant = await post('/tenants/..%2Fx/webhooks/stripe', '{}', {});
  expect(badTenant.status).toBe(400);
  expect(await badTenant.json()).toMatchObject({ error: 'invalid_tenant' });
  for (const name of ['__proto__', 'constructor', 'hasOwnProperty']) {
    const res = await post(`/webhooks/${name}`, '{}', {});
    expect([name, res.status]).toEqual([name, 404]);
  }
});

/** An app of its own on a free port, its log lines kept; `webhookSources` replaced when given. */
async function ownApp(webhookSources: WebhookSources = loadWebhookSources()): Promise<{ url: string; lines: string[]; close(): Promise<void> }> {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const connection = Connection.lazy({ address: config.TEMPORAL_ADDRESS });
  const app = createApp({
    config,
    workflows: new WorkflowStarter({ connection, namespace: config.TEMPORAL_NAMESPACE }),
    pool,
    registry: {},
    webhookSources,
    webhookSecrets: createWebhookSecrets({ env: { STRIPE_WEBHOOK_SECRETS: TEST_STRIPE_SECRET }, defaultTenant: config.DEFAULT_TENANT }),
    metrics: createApiMetrics(),
    logger: createLogger('api-log-test', 'info', sink),
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    lines,
    async close() {
      server.close();
      await connection.close().catch(() => undefined);
    },
  };
}

test('the request log line names the route template and the workflow id, never the signature', async () => {
  const own = await ownApp();
  try {
    const { body, signature } = signed();
    const res = await fetch(`${own.url}/webhooks/stripe`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body });
    expect(res.status).toBe(202);
    const { workflowId } = (await res.json()) as { workflowId: string };
    const line = own.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'request');
    expect(line).toMatchObject({ method: 'POST', route: '/webhooks/:source', status: 202, workflowId });
    expect(own.lines.join('')).not.toContain(signature);
  } finally {
    await own.close();
  }
});

test('a bug in the intake before it reads the body is a logged 500, not the end of the process', async () => {
  // Ahead of Express, a throw would reach node:http's request listener: an uncaught exception.
  const sources = loadWebhookSources();
  const buggy: WebhookSources = Object.assign(new Map(sources), {
    get(name: string) {
      if (name === 'buggy') throw new Error('a bug in a source lookup');
      return sources.get(name);
    },
  });
  const own = await ownApp(buggy);
  try {
    const res = await fetch(`${own.url}/webhooks/buggy`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ error: 'internal_error' });
    expect(own.lines.join('')).toContain('a bug in a source lookup');
    // The same process still answers webhooks.
    const { body, signature } = signed();
    const next = await fetch(`${own.url}/webhooks/stripe`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body });
    expect(next.status).toBe(202);
  } finally {
    await own.close();
  }
});
