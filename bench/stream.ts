/**
 * Live stream delivery latency: from an event's publication (PostgreSQL NOTIFY, as the worker's
 * activities and the API publish) to its receipt by a subscriber of `GET /stream` (the API process
 * LISTENs and writes Server-Sent Events), against the source system's target of p99 < 100 ms.
 *
 *   node dist/bench/stream.js [--subscribers=N] [--rate=R] [--duration=S]
 *
 * The stack as `npm start` runs it (bench/stack.ts: dev server, worker and API as processes). N
 * subscribers (default 10) open the stream of one tenant: half on `batching`, half on
 * `batching,rate_limit,alert`; the benchmark publishes R events a second (default 100) for S
 * seconds (default 10) on `batching` (every subscriber gets each) and as many on `rate_limit` for
 * another tenant (none of them may get one: the tenant filter). Each event carries its publication
 * time (performance.timeOrigin + performance.now(), one clock: same machine). Prints p50/p95/p99/max
 * and writes bench/results/stream.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createPool } from '../lib/data/db';
import { publishEvent } from '../lib/data/event-stream';
import { projectRoot } from '../lib/config/paths';
import { createApiKey } from '../lib/security/api-keys';
import { percentile, startStack, type Stack } from './stack';

interface Args {
  subscribers: number;
  rate: number;
  duration: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { subscribers: 10, rate: 100, duration: 10 };
  for (const arg of argv) {
    const [name, value] = arg.replace(/^--/, '').split('=') as [string, string | undefined];
    if (!(name in args) || value === undefined || !(Number(value) > 0)) throw new Error(`unknown or invalid option ${arg}; options: --subscribers=N --rate=R --duration=S`);
    args[name as keyof Args] = Number(value);
  }
  return args;
}

const now = (): number => performance.timeOrigin + performance.now();
const say = (line: string): void => console.log(line);

interface Subscriber {
  topics: string;
  latenciesMs: number[];
  unexpected: number;
  close(): void;
}

/** Opens one SSE stream and records, for each event with `sentAt`, how long after it arrived. */
async function subscribe(apiUrl: string, key: string, topics: string): Promise<Subscriber> {
  const controller = new AbortController();
  const res = await fetch(`${apiUrl}/stream?topics=${topics}`, { headers: { authorization: `Bearer ${key}` }, signal: controller.signal });
  if (res.status !== 200 || !res.body) throw new Error(`GET /stream answered ${res.status}`);
  const subscriber: Subscriber = { topics, latenciesMs: [], unexpected: 0, close: () => controller.abort() };
  const reader = res.body.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  const decoder = new TextDecoder();
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  let buffer = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        const receivedAt = now();
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event === 'ready') ready();
          else if (event === 'batching' && data) subscriber.latenciesMs.push(receivedAt - (JSON.parse(data) as { sentAt: number }).sentAt);
          else if (event && data) subscriber.unexpected++;
        }
      }
    } catch {
      // aborted at the end
    }
  })();
  await isReady;
  return subscriber;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/switchyard_bench';
  const run = Date.now().toString(36);
  const tenant = `benchstream${run}`;
  say(`stream: ${args.subscribers} subscribers, ${args.rate} events/s for ${args.duration} s; starting the stack…`);
  const stack: Stack = await startStack({ databaseUrl, env: { DEFAULT_TENANT: tenant, LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' }, log: say });
  const pool = createPool(databaseUrl, { max: 4 });
  try {
    const { key } = await createApiKey(pool, { tenant, role: 'operator', name: 'bench stream' });
    const subscribers: Subscriber[] = [];
    for (let i = 0; i < args.subscribers; i++) subscribers.push(await subscribe(stack.apiUrl, key, i % 2 === 0 ? 'batching' : 'batching,rate_limit,alert'));
    const total = Math.round(args.rate * args.duration);
    const intervalMs = 1000 / args.rate;
    const started = now();
    for (let i = 0; i < total; i++) {
      // Every tick yields, so the subscribers' reads (this process) are never starved by a late schedule.
      const wait = started + i * intervalMs - now();
      await new Promise((resolve) => (wait > 0 ? setTimeout(resolve, wait) : setImmediate(resolve)));
      // As a worker activity publishes: one NOTIFY each, awaited.
      await Promise.all([
        publishEvent(pool, { topic: 'batching', tenant, data: { seq: i, flushSize: 10, requestsSaved: 9, sentAt: now() } }),
        publishEvent(pool, { topic: 'rate_limit', tenant: `other${run}`, data: { seq: i, kind: 'webhook_source', sentAt: now() } }),
      ]);
    }
    // Let the last events arrive.
    const deadline = now() + 5000;
    while (now() < deadline && subscribers.some((s) => s.latenciesMs.length < total)) await new Promise((resolve) => setTimeout(resolve, 50));
    for (const s of subscribers) s.close();

    const all = subscribers.flatMap((s) => s.latenciesMs).sort((a, b) => a - b);
    const received = all.length;
    const expected = total * subscribers.length;
    const unexpected = subscribers.reduce((n, s) => n + s.unexpected, 0);
    const round = (ms: number): number => Math.round(ms * 100) / 100;
    const report = {
      subscribers: args.subscribers,
      eventsPerSecond: args.rate,
      seconds: args.duration,
      published: total,
      received,
      expected,
      otherTenantEventsReceived: unexpected,
      latencyMs: { p50: round(percentile(all, 50)), p95: round(percentile(all, 95)), p99: round(percentile(all, 99)), max: round(all.at(-1) ?? NaN) },
      targetP99Ms: 100,
    };
    say('');
    say('| subscribers | events/s | delivered | p50 ms | p95 ms | p99 ms | max ms | target p99 |');
    say('|---|---|---|---|---|---|---|---|');
    say(`| ${args.subscribers} | ${args.rate} | ${received}/${expected} | ${report.latencyMs.p50} | ${report.latencyMs.p95} | ${report.latencyMs.p99} | ${report.latencyMs.max} | < 100 ms: ${report.latencyMs.p99 < 100 ? 'met' : 'NOT met'} |`);
    if (unexpected > 0) say(`!! ${unexpected} events of another tenant reached these subscribers`);
    const out = path.join(projectRoot, 'bench', 'results', 'stream.json');
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    say(`written ${path.relative(projectRoot, out)}`);
    if (received < expected || unexpected > 0) process.exitCode = 1;
  } finally {
    await pool.end();
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
