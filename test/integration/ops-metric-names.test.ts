/**
 * Every metric name in ops/ is real: the alert rules (ops/alert-rules.yml) and the Grafana
 * dashboards' Prometheus queries name only metrics that the running stack exposes. The stack is
 * the real worker process (its own /metrics on WORKER_METRICS_PORT and the Temporal SDK's on
 * TEMPORAL_SDK_METRICS_PORT) and the API (its /metrics on its metrics port); traffic is a signed
 * webhook delivered to a subscriber, a refused webhook, a provider call and a batch item. A typo
 * in a rule or a panel, or a metric renamed in the code, fails here instead of leaving a rule
 * that can never fire or a panel that stays empty.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import type { Pool } from 'pg';
import type { Config } from '../../lib/config/config';
import { findFreePort } from '../../lib/temporal/dev-server';
import { startFakeProviders, type FakeProviders } from '../fakes/provider-server';
import { eventually, postStripe, registryAt, startApi, stripeEvent, testConfig, testPool, type RunningApi } from '../support/harness';
import { assertWorkerBuilt, exited, startWorkerProcess } from '../support/worker-process';

const ops = path.join(__dirname, '..', '..', 'ops');

/**
 * Names no Switchyard process exposes, each for a reason:
 * - `up`: written by Prometheus itself for every scrape target;
 * - `approximate_backlog_count`, `approximate_backlog_age_seconds`: the Temporal server's
 *   (matching service, job temporal-server), exported once a task queue is loaded (seen on the
 *   pinned CLI's dev server with --metrics-port after about a minute); the test dev server's
 *   metrics port is not one the tests know, and waiting for them would add a minute.
 */
const externalNames = new Set(['up', 'approximate_backlog_count', 'approximate_backlog_age_seconds']);

const promqlWords = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'inf', 'nan']);

/** The metric names a PromQL expression reads (not its functions, labels, strings or keywords). */
function metricNamesIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = [...bare.matchAll(/(?<![\w:.])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:]|\s*\()/g)].map((m) => m[1]!);
  return [...new Set(names.filter((n) => !promqlWords.has(n.toLowerCase())))];
}

/** Each rule's expression (one line, or the block under `expr: |`) and the names rules record. */
function ruleExpressions(text: string): { exprs: string[]; recorded: Set<string> } {
  const lines = text.split('\n');
  const exprs: string[] = [];
  lines.forEach((line, i) => {
    const m = /^(\s*)expr:\s*(.*)$/.exec(line);
    if (!m) return;
    if (m[2] !== '|') {
      exprs.push(m[2]!);
      return;
    }
    const block: string[] = [];
    for (let j = i + 1; j < lines.length && (lines[j]!.trim() === '' || lines[j]!.search(/\S/) > m[1]!.length); j++) block.push(lines[j]!);
    exprs.push(block.join('\n'));
  });
  return { exprs, recorded: new Set([...text.matchAll(/^\s*- record: (\S+)$/gm)].map((m) => m[1]!)) };
}

/** Every Prometheus query of every dashboard (Loki's are log queries, not metrics). */
function dashboardExpressions(): Array<{ where: string; expr: string }> {
  const dir = path.join(ops, 'grafana', 'dashboards');
  const found: Array<{ where: string; expr: string }> = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const dashboard = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as {
      panels: Array<{ title: string; datasource?: { type?: string }; targets?: Array<{ expr?: string; datasource?: { type?: string } }> }>;
    };
    for (const panel of dashboard.panels) {
      for (const target of panel.targets ?? []) {
        if ((target.datasource?.type ?? panel.datasource?.type) !== 'prometheus' || !target.expr) continue;
        found.push({ where: `${file}: ${panel.title}`, expr: target.expr });
      }
    }
  }
  return found;
}

/** The sample names a /metrics text exposes (histograms as their _bucket, _count and _sum). */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (histogram|summary)$/.exec(line);
    if (type) for (const suffix of ['_bucket', '_count', '_sum']) names.add(`${type[1]}${suffix}`);
    const declared = /^# TYPE (\S+) /.exec(line);
    if (declared) names.add(declared[1]!);
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
    if (sample) names.add(sample[1]!);
  }
  return names;
}

test('metricNamesIn reads metric names, not functions, labels, strings, ranges or keywords', () => {
  expect(
    metricNamesIn('(sum by (provider) (rate(a_total{outcome=~"x|y"}[5m])) or 0 * sum by (provider) (rate(b_total[5m]))) / (c:ratio:rate5m > 0.1) and on () count(up)'),
  ).toEqual(['a_total', 'b_total', 'c:ratio:rate5m', 'up']);
  expect(metricNamesIn('histogram_quantile(0.95, sum by (le) (rate(h_bucket[5m]))) > 2')).toEqual(['h_bucket']);
  expect(metricNamesIn('label_replace(sum by (severity) (alerts_firing{state="firing"}), "x", "$1", "severity", "(.*)") > 0')).toEqual(['alerts_firing']);
  expect(metricNamesIn('absent(integration_up) or vector(0)')).toEqual(['integration_up']);
});

describe('the stack', () => {
  let pool: Pool;
  let fakes: FakeProviders;
  let config: Config;
  let api: RunningApi;
  let worker: ChildProcess | undefined;
  let receiver: http.Server;
  let receiverUrl: string;
  const ports = { worker: 0, sdk: 0 };
  const received: string[] = [];

  beforeAll(async () => {
    assertWorkerBuilt();
    pool = testPool();
    fakes = await startFakeProviders();
    config = testConfig();
    const registry = registryAt(fakes.url);
    receiver = http.createServer((req, res) => {
      req.on('data', () => undefined).on('end', () => {
        received.push(String(req.headers['webhook-id']));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    ports.worker = await findFreePort();
    ports.sdk = await findFreePort();
    worker = await startWorkerProcess(config, registry, fakes.url, { WORKER_METRICS_PORT: String(ports.worker), TEMPORAL_SDK_METRICS_PORT: String(ports.sdk) });
    api = await startApi(config, pool, registry);
  }, 120_000);

  afterAll(async () => {
    if (worker) {
      worker.kill('SIGTERM');
      await exited(worker);
    }
    await api?.close();
    receiver?.close();
    await fakes?.close();
    await pool?.end();
  });

  async function scrapeAll(): Promise<Record<string, string>> {
    const get = async (url: string) => (await fetch(url)).text();
    return {
      api: await api.scrapeMetrics(),
      worker: await get(`http://127.0.0.1:${ports.worker}/metrics`),
      'temporal-sdk': await get(`http://127.0.0.1:${ports.sdk}/metrics`),
    };
  }

  test('after traffic, every metric the alert rules and dashboards name is exposed (or an allowed external name)', async () => {
    // A subscriber, and a Stripe webhook delivered to it.
    const subscribed = await api.fetch('/subscribers', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: receiverUrl }) });
    expect(subscribed.status).toBe(201);
    const event = stripeEvent();
    expect((await postStripe(api.url, event)).status).toBe(202);
    // A refused one (bad signature) and an unknown source.
    expect((await fetch(`${api.url}/webhooks/stripe`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=00' }, body: '{}' })).status).toBe(401);
    expect((await fetch(`${api.url}/webhooks/nosuch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(404);
    // A provider call (a remote activity on a provider task queue) and a batch item.
    const call = await api.fetch('/calls/stripe/createPaymentIntent?wait=30000', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify({ params: { amount: 2500, currency: 'usd', customer: 'cus_1' } }),
    });
    expect(call.status).toBe(200);
    const item = await api.fetch('/batches/sendgrid/sendMail', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ params: { to: `names-${randomUUID()}@example.com`, subject: 'names', text: 'hello' }, priority: 'high' }),
    });
    expect(item.status).toBe(202);
    const { itemId } = (await item.json()) as { itemId: string };
    await eventually(async () => {
      const body = (await (await api.fetch(`/batches/items/${encodeURIComponent(itemId)}`)).json()) as { status: string };
      return body.status === 'sent' ? true : undefined;
    }, 30_000);
    await eventually(() => Promise.resolve(received.length > 0 ? true : undefined), 30_000);

    const rules = ruleExpressions(readFileSync(path.join(ops, 'alert-rules.yml'), 'utf8'));
    const wanted = [
      ...rules.exprs.map((expr) => ({ where: 'alert-rules.yml', expr })),
      ...dashboardExpressions(),
    ].flatMap(({ where, expr }) => metricNamesIn(expr).map((name) => ({ where, name })));
    expect(wanted.length).toBeGreaterThan(40);

    // The SDK exports some histograms only once it has recorded a value: wait for the scrapes to settle.
    const missing = await eventually(async () => {
      const scraped = await scrapeAll();
      const exposed = new Set(Object.values(scraped).flatMap((text) => [...exposedNames(text)]));
      const absent = wanted.filter(({ name }) => !exposed.has(name) && !rules.recorded.has(name) && !externalNames.has(name));
      return absent.length === 0 ? absent : undefined;
    }, 30_000).catch(async () => {
      const scraped = await scrapeAll();
      const exposed = new Set(Object.values(scraped).flatMap((text) => [...exposedNames(text)]));
      return wanted.filter(({ name }) => !exposed.has(name) && !rules.recorded.has(name) && !externalNames.has(name));
    });
    expect(missing).toEqual([]);
  }, 120_000);
});
