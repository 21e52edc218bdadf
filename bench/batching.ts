/**
 * Batching benchmark: the same standard mix of email and SMS items sent through
 * `POST /batches/...` (batched) and through `POST /calls/...` (one provider call per item,
 * unbatched), in one run, on the real stack (own Temporal dev server, PostgreSQL, in-process
 * worker and API, local fake providers). Reports items, provider requests, the reduction ratio and
 * item latency (provider request time − send time) p50/p99 per priority, as a table and as JSON.
 * Payloads are encrypted (a keyring made for the run), as `npm start` and production run them.
 *   npm run bench -- [items=1200] [seconds=20]
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createApp } from '../api/app';
import { createApiMetrics } from '../api/metrics';
import { createWebhookSecrets } from '../api/webhook-secrets';
import { loadWebhookSources } from '../api/webhook-sources';
import { WorkflowStarter } from '../lib/temporal/workflow-starter';
import { migrate } from '../db/migrate';
import { createApiKey } from '../lib/security/api-keys';
import { loadConfig } from '../lib/config/config';
import { createPool } from '../lib/data/db';
import { findFreePort, startDevServer } from '../lib/temporal/dev-server';
import { newKeyringEntry } from '../lib/security/keyring';
import { createLogger } from '../lib/logger';
import { outboundPolicyOf } from '../lib/security/outbound-policy';
import { payloadDataConverter } from '../lib/security/payload-codec';
import { projectRoot } from '../lib/config/paths';
import { baseUrlOverrideVariable, loadRegistry, type ProviderConfig } from '../lib/config/registry';
import { prepareNamespace } from '../scripts/prepare';
import { fakeCredentials } from '../test/fakes/credentials';
import { startFakeProviders, type FakeRequest } from '../test/fakes/provider-server';
import { createWorkers } from '../workers/worker';

const PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;
type Priority = (typeof PRIORITIES)[number];
const MIX: Record<Priority, number> = { critical: 0.05, high: 0.2, medium: 0.4, low: 0.35 };
const DUPLICATE_SHARE = 0.1;
const SUBJECTS = ['Your receipt', 'Weekly digest', 'Reminder', 'Welcome', 'Security notice'];
/** Notification SMS come from a few templates (the same text to many numbers, as alerts and reminders do). */
const SMS_TEXTS = ['Your appointment is tomorrow at 10:00', 'Your order has shipped', 'Service notice: maintenance tonight 02:00-03:00'];

interface Item {
  kind: 'email' | 'sms';
  priority: Priority;
  recipient: string;
  params: Record<string, unknown>;
  sentAt: number;
}

/** Deterministic pseudo-random numbers, so every run sends the same mix. */
function random(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 16807) % 2147483647) / 2147483647;
}

function standardMix(count: number): Omit<Item, 'sentAt'>[] {
  const next = random(42);
  const items: Omit<Item, 'sentAt'>[] = [];
  for (let i = 0; i < count; i++) {
    if (items.length > 10 && next() < DUPLICATE_SHARE) {
      items.push(items[items.length - 1 - Math.floor(next() * Math.min(items.length, 50))]!); // a recent duplicate
      continue;
    }
    let pick = next();
    const priority = PRIORITIES.find((p) => (pick -= MIX[p]) < 0) ?? 'low';
    const kind = next() < 0.5 ? 'email' : 'sms';
    const recipient = kind === 'email' ? `user${i}@bench.example` : `+1415${String(1000000 + i).padStart(7, '0')}`;
    const params = kind === 'email' ? { to: recipient, subject: SUBJECTS[i % SUBJECTS.length], text: 'hello' } : { to: recipient, body: SMS_TEXTS[i % SMS_TEXTS.length] };
    items.push({ kind, priority, recipient, params });
  }
  return items;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function recipientsOf(request: FakeRequest): string[] {
  const body = request.body as { personalizations?: Array<{ to: Array<{ email: string }> }>; To?: string; ToBinding?: string | string[] };
  if (request.provider === 'sendgrid') return (body.personalizations ?? []).flatMap((p) => p.to.map((t) => t.email));
  if (body.ToBinding !== undefined) return [body.ToBinding].flat().map((b) => (JSON.parse(b) as { address: string }).address); // Twilio Notify
  return body.To ? [body.To] : [];
}

async function main(): Promise<void> {
  const [countArg, secondsArg] = process.argv.slice(2);
  const count = Number(countArg ?? 300);
  const seconds = Number(secondsArg ?? 20);
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/switchyard_bench';
  console.log(`[bench] batching: ${count} items over ${seconds} s, standard mix; starting the stack…`);
  await migrate(databaseUrl);
  // A SQLite file (WAL) as `npm start` uses: the in-memory store stalls under this load.
  const server = await startDevServer({ port: await findFreePort(), dbFile: path.join(mkdtempSync(path.join(os.tmpdir(), 'switchyard-bench-')), 'temporal.db') });
  const stopServer = (): void => void server.stop();
  process.once('exit', stopServer); // a failed run must not leave its dev server behind
  const fakes = await startFakeProviders();
  const env = { ...process.env, ...fakeCredentials, ...Object.fromEntries(Object.keys(loadRegistry()).map((n) => [baseUrlOverrideVariable(n), fakes.url])) };
  const registry = Object.fromEntries(
    Object.entries(loadRegistry(env)).map(([name, p]): [string, ProviderConfig] => [name, { ...p, rateLimitPerSecond: 500, budget: null }]),
  );
  const config = loadConfig({
    ...env,
    TEMPORAL_ADDRESS: server.address,
    DATABASE_URL: databaseUrl,
    DEFAULT_TENANT: `bench${Date.now()}`,
    RATE_LIMIT_PER_KEY_PER_MINUTE: '0',
    RATE_LIMIT_PER_IP_PER_MINUTE: '0',
    // Payloads encrypted, as npm start and production run: a keyring made for the run.
    PAYLOAD_ENCRYPTION_KEYS: newKeyringEntry('bench-payload-1'),
    // The fakes listen on loopback over plain http: allowed as npm start allows them.
    OUTBOUND_ALLOW: '127.0.0.1',
    OUTBOUND_ALLOW_HTTP: 'true',
  });
  await prepareNamespace(server.address, config.TEMPORAL_NAMESPACE);
  const pool = createPool(databaseUrl, { max: 20 });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const workers = await createWorkers({
    connection: nativeConnection,
    namespace: 'default',
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    pool,
    registry,
    env,
    providerTaskQueuePrefix: 'provider-',
    payloadKeys: config.PAYLOAD_ENCRYPTION_KEYS,
    outboundPolicy: outboundPolicyOf(config),
  });
  const running = workers.run();
  const connection = await Connection.connect({ address: server.address });
  const workflows = new WorkflowStarter({ connection, namespace: 'default', dataConverter: payloadDataConverter(config.PAYLOAD_ENCRYPTION_KEYS) });
  const app = createApp({
    config,
    workflows,
    pool,
    registry,
    webhookSources: loadWebhookSources(),
    webhookSecrets: createWebhookSecrets({ env: {}, defaultTenant: config.DEFAULT_TENANT }),
    metrics: createApiMetrics(),
    logger: createLogger('bench', 'silent'),
  });
  const listener = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => listener.once('listening', resolve));
  const api = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;

  // A service key of the bench tenant; the bench's requests stay under the rate limits (set off above).
  const { key } = await createApiKey(pool, { tenant: config.DEFAULT_TENANT, role: 'service', name: 'bench' });
  const mix = standardMix(count);
  const results: Record<string, unknown> = { items: count, seconds, mix: MIX, duplicateShare: DUPLICATE_SHARE };
  const overloadRetries = { unbatched: 0, batched: 0 };
  for (const mode of ['unbatched', 'batched'] as const) {
    fakes.reset();
    const started = Date.now();
    const sent: Item[] = [];
    const posts: Promise<unknown>[] = [];
    for (const [i, base] of mix.entries()) {
      const due = started + (i * seconds * 1000) / count;
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      const item: Item = { ...base, sentAt: Date.now() };
      sent.push(item);
      const [provider, operation] = item.kind === 'email' ? ['sendgrid', 'sendMail'] : ['twilio', 'sendSms'];
      const url = mode === 'batched' ? `${api}/batches/${provider}/${operation}` : `${api}/calls/${provider}/${operation}?wait=0`;
      const body = mode === 'batched' ? { params: item.params, priority: item.priority } : { params: item.params, priority: item.priority === 'critical' ? 'critical' : 'normal' };
      const post = async (tries = 30): Promise<void> => {
        const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': `${mode}-${i}`, authorization: `Bearer ${key}` }, body: JSON.stringify(body) });
        // 5xx (503 + Retry-After when overloaded) means "not accepted, retry": a real client waits and retries.
        if (r.status >= 500 && tries > 0) {
          overloadRetries[mode]++;
          await new Promise((resolve) => setTimeout(resolve, 1000));
          return post(tries - 1);
        }
        if (r.status >= 300) throw new Error(`${mode} item ${i}: HTTP ${r.status} ${await r.text()}`);
      };
      posts.push(post());
    }
    await Promise.all(posts);
    const unique = new Set(sent.map((s) => s.recipient));
    const deadline = Date.now() + 300_000;
    let firstSeen = new Map<string, number>();
    while (Date.now() < deadline) {
      firstSeen = new Map();
      for (const request of fakes.requests()) {
        if (request.status === null || request.status >= 300) continue;
        for (const r of recipientsOf(request)) if (!firstSeen.has(r)) firstSeen.set(r, Date.parse(request.at));
      }
      if ([...unique].every((r) => firstSeen.has(r))) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const latency: Record<string, { p50: number; p99: number; n: number }> = {};
    for (const priority of PRIORITIES) {
      const values = sent.filter((s) => s.priority === priority && firstSeen.has(s.recipient)).map((s) => Math.max(0, firstSeen.get(s.recipient)! - s.sentAt));
      latency[priority] = { p50: percentile(values, 50), p99: percentile(values, 99), n: values.length };
    }
    const requests = fakes.requests().filter((r) => r.provider === 'sendgrid' || r.provider === 'twilio').length;
    results[mode] = { overloadRetries: overloadRetries[mode], providerRequests: requests, delivered: firstSeen.size, uniqueRecipients: unique.size, latencyMs: latency, drainSeconds: (Date.now() - started) / 1000 };
    console.log(`[bench] ${mode}: ${requests} provider requests, ${firstSeen.size}/${unique.size} recipients reached`);
  }

  const unbatched = results.unbatched as { providerRequests: number; latencyMs: Record<Priority, { p50: number; p99: number }> };
  const batched = results.batched as { providerRequests: number; latencyMs: Record<Priority, { p50: number; p99: number }> };
  results.reductionRatio = 1 - batched.providerRequests / unbatched.providerRequests;
  results.criticalP99Ratio = batched.latencyMs.critical.p99 / unbatched.latencyMs.critical.p99;
  console.log('\n| mode | provider requests | ' + PRIORITIES.map((p) => `${p} p50 / p99 ms`).join(' | ') + ' |');
  console.log('|---|---|' + PRIORITIES.map(() => '---|').join(''));
  for (const [mode, r] of [['unbatched', unbatched], ['batched', batched]] as const) {
    console.log(`| ${mode} | ${r.providerRequests} | ` + PRIORITIES.map((p) => `${r.latencyMs[p].p50} / ${r.latencyMs[p].p99}`).join(' | ') + ' |');
  }
  console.log(`\nreduction in provider requests: ${(Number(results.reductionRatio) * 100).toFixed(1)}% (target ≥ 60%)`);
  console.log(`critical p99, batched / unbatched: ${Number(results.criticalP99Ratio).toFixed(2)} (target ≤ 1)`);
  const out = path.join(projectRoot, 'bench', 'results', 'batching.json');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`[bench] wrote ${path.relative(projectRoot, out)}`);

  listener.close();
  workers.shutdown();
  await running;
  await Promise.allSettled([connection.close(), nativeConnection.close(), pool.end(), fakes.close()]);
  await server.stop();
}

main().catch((err: unknown) => {
  console.error(`[bench] failed: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
