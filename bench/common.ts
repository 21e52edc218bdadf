/**
 * What the benchmarks share: the Stripe event they send, the HTTP load generator (autocannon, one
 * fresh request per call), latency summaries, and the per-process CPU accounting of a phase.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import autocannon from 'autocannon';
import { projectRoot } from '../lib/config/paths';
import type { Pool } from 'pg';
import { migrate } from '../db/migrate';
import { createPool } from '../lib/data/db';
import { newKeyringEntry, parseKeyring, type Keyring } from '../lib/security/keyring';
import { cpuSeconds, percentile, rssBytes, startStack, type Stack, type StackOptions } from './stack';

/** A Stripe payment_intent.succeeded event as Stripe sends it, with its own event and intent ids. */
export function stripeEventBody(eventId: string): string {
  return JSON.stringify({
    id: eventId,
    object: 'event',
    api_version: '2024-06-20',
    type: 'payment_intent.succeeded',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    data: {
      object: { id: `pi_${eventId.slice(4)}`, object: 'payment_intent', amount: 2000, amount_received: 2000, currency: 'usd', status: 'succeeded', customer: null },
    },
  });
}

export interface LoadResult {
  requests: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  failures: number;
  seconds: number;
}

export interface CpuShare {
  /** Cores each process kept busy on average during the phase (1 = one core). */
  cores: Record<string, number>;
  /** Share of the whole machine that was busy, every process (ours, PostgreSQL, other tenants) included. */
  machineBusy: number;
}

/** Machine-wide busy and total jiffies from /proc/stat. */
export function machineJiffies(): { busy: number; total: number } {
  const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const n = values.map(Number);
  const idle = (n[3] ?? 0) + (n[4] ?? 0);
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** Adds up, over one or more runs of a phase, how busy each of our processes and the machine were. */
export class CpuAccount {
  private seconds = 0;
  private readonly used: Record<string, number> = {};
  private machineBusy = 0;
  private machineTotal = 0;

  constructor(private readonly pids: Record<string, number>) {}

  async run<T>(phase: () => Promise<T>): Promise<T> {
    const before = Object.fromEntries(Object.entries(this.pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
    const benchBefore = process.cpuUsage();
    const machineBefore = machineJiffies();
    const started = process.hrtime.bigint();
    const result = await phase();
    this.seconds += Number(process.hrtime.bigint() - started) / 1e9;
    const machineAfter = machineJiffies();
    const bench = process.cpuUsage(benchBefore);
    for (const [name, pid] of Object.entries(this.pids)) this.used[name] = (this.used[name] ?? 0) + cpuSeconds(pid) - (before[name] ?? cpuSeconds(pid));
    this.used['load generator'] = (this.used['load generator'] ?? 0) + (bench.user + bench.system) / 1e6;
    this.machineBusy += machineAfter.busy - machineBefore.busy;
    this.machineTotal += machineAfter.total - machineBefore.total;
    return result;
  }

  share(): CpuShare {
    const cores = Object.fromEntries(Object.entries(this.used).map(([name, s]) => [name, round(s / this.seconds, 2)]));
    return { cores, machineBusy: round(this.machineBusy / Math.max(1, this.machineTotal), 2) };
  }
}

/** RSS once it stops moving (garbage collection after a load settles it): median of the last 4 samples. */
export async function settledRss(pid: number, timeoutMs = 15_000): Promise<number> {
  const samples: number[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    samples.push(rssBytes(pid));
    const last = samples.slice(-4).sort((a, b) => a - b);
    if ((last.length === 4 && last[3]! - last[0]! < 2 * 2 ** 20) || Date.now() > deadline) return (last[1]! + last[2]!) / 2 || last[0]!;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export interface Samples {
  /** Latency of every successful request or start, ms. */
  latencies: number[];
  failures: number;
  seconds: number;
}

export function summarise(samples: Samples[]): LoadResult {
  const latencies = samples.flatMap((s) => s.latencies).sort((a, b) => a - b);
  const seconds = samples.reduce((sum, s) => sum + s.seconds, 0);
  return {
    requests: latencies.length,
    perSecond: round(latencies.length / seconds),
    p50Ms: round(percentile(latencies, 50), 1),
    p99Ms: round(percentile(latencies, 99), 1),
    meanMs: round(latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length), 2),
    failures: samples.reduce((sum, s) => sum + s.failures, 0),
    seconds: round(seconds, 2),
  };
}

/** autocannon against `url` with one fresh request per call of `makeRequest`; latencies in µs resolution. */
export async function httpLoad(url: string, connections: number, seconds: number, makeRequest: () => autocannon.Request): Promise<Samples> {
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const options: autocannon.Options = { url, connections, duration: seconds, requests: [{ method: 'POST', setupRequest: () => makeRequest() }] };
    const instance = autocannon(options, (err: Error | null, done: autocannon.Result) => (err ? reject(err) : resolve(done)));
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
      else failures++;
    });
  });
  return { latencies, failures: failures + result.errors + result.timeouts, seconds: (performance.now() - started) / 1000 };
}

/** Busy cores of the dev server, the worker, the HTTP server under load (`server`) and the load generator. */
export function cpuLine(cpu: CpuShare, server: string): string {
  const c = cpu.cores;
  return `${c['temporal server']} / ${c.worker} / ${c[server]} / ${c['load generator']} (${Math.round(cpu.machineBusy * 100)}%)`;
}

export function readVersion(): string {
  try {
    return readFileSync(path.join(projectRoot, '.tools', 'bin', 'temporal.version'), 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

/**
 * A benchmark of the webhook inbox on its own stack (bench/stack.ts) and database: migrates, deletes
 * never-started rows an interrupted run of any `bench…` tenant left (they would be drained first),
 * starts the stack for `tenant` (payloads encrypted with a keyring made for the run, or plain;
 * BENCH_NODE_FLAGS for profiles), runs `body`, then stops the stack and deletes this run's rows
 * that never started. One benchmark per database: the clean-up at start is another run's loss.
 * `temporal` and `workers` are passed to startStack (an external Temporal server, more workers).
 */
export async function withInboxStack(
  options: { databaseUrl: string; tenant: string; signingSecret: string; payloads: 'encrypted' | 'plain'; say: (line: string) => void } & Pick<StackOptions, 'temporal' | 'workers'>,
  body: (stack: Stack, pool: Pool, keyring: Keyring | undefined) => Promise<void>,
): Promise<void> {
  const { databaseUrl, tenant, say } = options;
  await migrate(databaseUrl);
  const pool = createPool(databaseUrl, { max: 3 });
  const stale = await pool.query(`DELETE FROM webhook_events WHERE started_at IS NULL AND tenant LIKE 'bench%'`);
  if ((stale.rowCount ?? 0) > 0) say(`removed ${stale.rowCount} never-started inbox rows of earlier benchmark runs`);
  const keyringEntry = options.payloads === 'encrypted' ? newKeyringEntry('bench-payload-1') : undefined;
  const keyring = keyringEntry === undefined ? undefined : (parseKeyring(keyringEntry) as { keyring: Keyring }).keyring;
  let stack: Stack | undefined;
  try {
    stack = await startStack({
      databaseUrl,
      env: {
        STRIPE_WEBHOOK_SECRETS: options.signingSecret,
        DEFAULT_TENANT: tenant,
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
        ...(keyringEntry === undefined ? {} : { PAYLOAD_ENCRYPTION_KEYS: keyringEntry }),
      },
      log: say,
      temporal: options.temporal,
      workers: options.workers,
      nodeFlags: process.env.BENCH_NODE_FLAGS ? process.env.BENCH_NODE_FLAGS.split(' ') : undefined,
    });
    await body(stack, pool, keyring);
  } finally {
    await stack?.stop();
    // A load that is not drained (nothing is measured after it): its never-started rows go.
    const left = await pool.query(`DELETE FROM webhook_events WHERE tenant = $1 AND started_at IS NULL`, [tenant]).catch(() => undefined);
    if ((left?.rowCount ?? 0) > 0) say(`removed ${left?.rowCount} never-started inbox rows of this run`);
    await pool.end();
  }
}
