/**
 * Webhook ingest benchmark: on the real stack (bench/stack.ts: own Temporal dev server
 * on SQLite WAL, own PostgreSQL database, worker and API processes), side by side in one run and
 * at the same concurrency:
 *   (a) signed Stripe webhooks through the API (signature check + durable start), each unique;
 *   (b) the limit: a bare Temporal client starting the same workflow in a tight loop;
 *   (c) raw node:http answering 202 with no work;
 *   (d) end to end: webhooks/s fully completed (ledger row `completed`), the (a) load drained;
 *   (e) worker RSS at steady state and per 1 000 cached (open) workflows.
 * Payloads are encrypted as `npm start` and production run them (a keyring made for the run, the
 * worker, the API and (b)'s client all with the codec); `--payloads=plain` measures without.
 * Prints a table with the ratios (a)/(b) and (a)/(c) and writes bench/results/ingest.json (ingest-plain.json).
 *   node dist/bench/ingest.js [--duration=10] [--connections=8] [--warmup=5] [--cached=1000] [--payloads=encrypted|plain] [--cpu-prof]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { Client, Connection } from '@temporalio/client';
import type { Pool } from 'pg';
import Stripe from 'stripe';
import { createPool } from '../lib/data/db';
import { newKeyringEntry, parseKeyring, type Keyring } from '../lib/security/keyring';
import { payloadDataConverter } from '../lib/security/payload-codec';
import { projectRoot } from '../lib/config/paths';
import { eventTypeKey, providerKey, tenantKey } from '../contracts/search-attributes';
import { webhookWorkflowId, type WebhookEvent } from '../contracts/webhook';
import { cpuProfilesIn, cpuSeconds, percentile, rssBytes, scrapeGauge, startStack, summariseCpuProfile, type Stack } from './stack';

const TARGETS = { ingestVsBare: 0.8, p99Ms: 25, endToEndPerSecond: 150 };
const SIGNING_SECRET = 'whsec_bench_ingest';
const TASK_QUEUE = 'switchyard';
const say = (line: string): void => console.log(`[bench] ${line}`);

interface Args {
  duration: number;
  connections: number;
  warmup: number;
  cached: number;
  cpuProf: boolean;
  payloads: 'encrypted' | 'plain';
}

function parseArgs(argv: string[]): Args {
  const args: Args = { duration: 10, connections: 8, warmup: 5, cached: 1000, cpuProf: false, payloads: 'encrypted' };
  for (const arg of argv) {
    const [name, value] = arg.replace(/^--/, '').split('=') as [string, string | undefined];
    if (name === 'cpu-prof') args.cpuProf = true;
    else if (name === 'payloads') {
      if (value !== 'encrypted' && value !== 'plain') throw new Error(`--payloads is encrypted or plain, got "${value}"`);
      args.payloads = value;
    } else if (name === 'duration' || name === 'connections' || name === 'warmup' || name === 'cached') {
      const n = Number(value);
      if (!Number.isInteger(n) || n < (name === 'warmup' || name === 'cached' ? 0 : 1)) throw new Error(`--${name} needs a whole number, got "${value}"`);
      args[name] = n;
    } else throw new Error(`unknown argument "${arg}" (--duration=s --connections=n --warmup=s --cached=n --payloads=encrypted|plain --cpu-prof)`);
  }
  return args;
}

/** A Stripe payment_intent.succeeded event as Stripe sends it, with its own event and intent ids. */
function stripeEventBody(eventId: string): string {
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

interface LoadResult {
  requests: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  failures: number;
  seconds: number;
}

interface CpuShare {
  /** Cores each process kept busy on average during the phase (1 = one core). */
  cores: Record<string, number>;
  /** Share of the whole machine that was busy, every process (ours, PostgreSQL, other tenants) included. */
  machineBusy: number;
}

/** Machine-wide busy and total jiffies from /proc/stat. */
function machineJiffies(): { busy: number; total: number } {
  const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const n = values.map(Number);
  const idle = (n[3] ?? 0) + (n[4] ?? 0);
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** Adds up, over one or more runs of a phase, how busy each of our processes and the machine were. */
class CpuAccount {
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
async function settledRss(pid: number, timeoutMs = 15_000): Promise<number> {
  const samples: number[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    samples.push(rssBytes(pid));
    const last = samples.slice(-4).sort((a, b) => a - b);
    if ((last.length === 4 && last[3]! - last[0]! < 2 * 2 ** 20) || Date.now() > deadline) return (last[1]! + last[2]!) / 2 || last[0]!;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

interface Samples {
  /** Latency of every successful request or start, ms. */
  latencies: number[];
  failures: number;
  seconds: number;
}

function summarise(samples: Samples[]): LoadResult {
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
async function httpLoad(url: string, connections: number, seconds: number, makeRequest: () => autocannon.Request): Promise<Samples> {
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

/** `connections` loops each starting one workflow after the other for `seconds`. */
async function bareStarts(client: Client, connections: number, seconds: number, makeEvent: () => WebhookEvent): Promise<Samples> {
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) {
        const event = makeEvent();
        const t = performance.now();
        try {
          // Exactly what api/start-work.ts asks for: id, conflict and reuse policies, search attributes.
          await client.workflow.start('processWebhook', {
            taskQueue: TASK_QUEUE,
            workflowId: webhookWorkflowId(event.tenant, event.provider, event.eventId),
            args: [event],
            workflowIdConflictPolicy: 'USE_EXISTING',
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
            typedSearchAttributes: [
              { key: providerKey, value: event.provider },
              { key: tenantKey, value: event.tenant },
              { key: eventTypeKey, value: event.eventType },
            ],
          });
          latencies.push(performance.now() - t);
        } catch {
          failures++;
        }
      }
    }),
  );
  return { latencies, failures, seconds: (performance.now() - started) / 1000 };
}

interface Drain {
  completed: number;
  failed: number;
  /** First received_at to last completed_at, seconds. */
  seconds: number;
  perSecond: number;
}

/** Waits until every accepted event of `prefix` has a completed (or failed) ledger row. */
async function drain(pool: Pool, tenant: string, prefix: string, expected: number, timeoutMs = 300_000): Promise<Drain> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await pool.query<{ completed: string; failed: string; seconds: number | null }>(
      `SELECT count(*) FILTER (WHERE status = 'completed') AS completed,
              count(*) FILTER (WHERE status = 'failed') AS failed,
              extract(epoch FROM max(completed_at) - min(received_at))::float8 AS seconds
         FROM webhook_events WHERE tenant = $1 AND provider = 'stripe' AND event_id LIKE $2`,
      [tenant, `${prefix}%`],
    );
    const completed = Number(rows[0]!.completed);
    const failed = Number(rows[0]!.failed);
    const seconds = rows[0]!.seconds ?? NaN;
    if (completed + failed >= expected || Date.now() > deadline) {
      if (completed + failed < expected) say(`drain of ${prefix}: only ${completed + failed}/${expected} finished before the deadline`);
      return { completed, failed, seconds: round(seconds, 2), perSecond: round(completed / seconds) };
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/switchyard_bench';
  const run = Date.now().toString(36);
  const tenant = `bench${run}`;
  const resultsDir = path.join(projectRoot, 'bench', 'results');
  const profileDir = path.join(resultsDir, 'profiles', run);
  if (args.cpuProf) mkdirSync(profileDir, { recursive: true });
  say(`ingest: ${args.connections} connections, ${args.duration} s per phase, ${args.warmup} s warm-up, ${args.payloads} payloads; starting the stack…`);
  const keyringEntry = args.payloads === 'encrypted' ? newKeyringEntry('bench-payload-1') : undefined;
  const keyring = keyringEntry === undefined ? undefined : (parseKeyring(keyringEntry) as { keyring: Keyring }).keyring;

  const stack: Stack = await startStack({
    databaseUrl,
    env: {
      STRIPE_WEBHOOK_SECRETS: SIGNING_SECRET,
      DEFAULT_TENANT: tenant,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
      ...(keyringEntry === undefined ? {} : { PAYLOAD_ENCRYPTION_KEYS: keyringEntry }),
    },
    nodeFlags: args.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
    log: say,
  });
  const pool = createPool(databaseUrl, { max: 2 });
  const connection = await Connection.connect({ address: stack.temporalAddress });
  const client = new Client({ connection, namespace: 'default', dataConverter: payloadDataConverter(keyring) });
  const pids: Record<string, number> = { 'temporal server': stack.temporalPid, worker: stack.worker.pid, api: stack.api.pid };
  const memory: Array<{ at: number; phase: string; workerRss: number; apiRss: number }> = [];
  let phase = 'start';
  const sampler = setInterval(() => memory.push({ at: Date.now(), phase, workerRss: rssBytes(stack.worker.pid), apiRss: rssBytes(stack.api.pid) }), 500);

  try {
    let sequence = 0;
    const nextId = (prefix: string): string => `evt_${prefix}${run}_${(sequence++).toString(36).padStart(7, '0')}`;
    const signedWebhook = (prefix: string) => (): autocannon.Request => {
      const body = stripeEventBody(nextId(prefix));
      return {
        method: 'POST',
        path: '/webhooks/stripe',
        body,
        headers: { 'content-type': 'application/json', 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: body, secret: SIGNING_SECRET }) },
      };
    };
    const bareEvent = (prefix: string) => (): WebhookEvent => {
      const body = stripeEventBody(nextId(prefix));
      const payload = JSON.parse(body) as Record<string, unknown>;
      return { tenant, provider: 'stripe', eventId: payload.id as string, eventType: 'payment_intent.succeeded', receivedAt: new Date().toISOString(), payload };
    };

    const raw = await stack.startRawServer();
    pids['raw node:http'] = raw.process.pid;
    // Warm-up: JIT, connection pools, the worker's workflow cache and SQLite's pages, on every path.
    if (args.warmup > 0) {
      phase = 'warm-up';
      const warm = await httpLoad(stack.apiUrl, args.connections, args.warmup, signedWebhook('w_'));
      const warmBare = await bareStarts(client, args.connections, Math.max(1, Math.ceil(args.warmup / 2)), bareEvent('wb_'));
      await httpLoad(raw.url, args.connections, Math.max(1, Math.ceil(args.warmup / 2)), signedWebhook('wr_'));
      await drain(pool, tenant, 'evt_w', warm.latencies.length + warmBare.latencies.length);
      say(`warm-up done (${warm.latencies.length} webhooks, ${warmBare.latencies.length} bare starts, drained)`);
    }

    phase = 'c';
    const rawCpuAccount = new CpuAccount(pids);
    const rawHttp = summarise([await rawCpuAccount.run(() => httpLoad(raw.url, args.connections, args.duration, signedWebhook('c_')))]);
    const rawCpu = rawCpuAccount.share();
    say(`(c) raw node:http: ${rawHttp.perSecond}/s, p50 ${rawHttp.p50Ms} ms, p99 ${rawHttp.p99Ms} ms`);

    // (b) and (a) in the order b a a b, half the duration each: drift (the machine's other load, the
    // growing SQLite file, the backlog the worker is draining) falls on both alike.
    const half = Math.max(1, args.duration / 2);
    const bareAccount = new CpuAccount(pids);
    const ingestAccount = new CpuAccount(pids);
    const bareSamples: Samples[] = [];
    const ingestSamples: Samples[] = [];
    for (const which of ['b', 'a', 'a', 'b'] as const) {
      phase = which;
      if (which === 'b') bareSamples.push(await bareAccount.run(() => bareStarts(client, args.connections, half, bareEvent('b_'))));
      else ingestSamples.push(await ingestAccount.run(() => httpLoad(stack.apiUrl, args.connections, half, signedWebhook('a_'))));
    }
    const bare = summarise(bareSamples);
    const ingest = summarise(ingestSamples);
    const [bareCpu, ingestCpu] = [bareAccount.share(), ingestAccount.share()];
    say(`(b) bare client: ${bare.perSecond}/s, p50 ${bare.p50Ms} ms, p99 ${bare.p99Ms} ms`);
    say(`(a) webhook ingest: ${ingest.perSecond}/s, p50 ${ingest.p50Ms} ms, p99 ${ingest.p99Ms} ms; draining both…`);
    phase = 'drain';
    await drain(pool, tenant, 'evt_b_', bare.requests);
    await drain(pool, tenant, 'evt_a_', ingest.requests);

    // (d) the same webhook load again, on an idle worker, timed until its last ledger row is completed.
    phase = 'd';
    const endToEndAccount = new CpuAccount(pids);
    const dStarted = Date.now();
    const dLoad = summarise([await endToEndAccount.run(() => httpLoad(stack.apiUrl, args.connections, args.duration, signedWebhook('d_')))]);
    const endToEnd = await endToEndAccount.run(() => drain(pool, tenant, 'evt_d_', dLoad.requests));
    const drainCpu = endToEndAccount.share();
    const backlogSeconds = round((Date.now() - dStarted) / 1000 - dLoad.seconds, 1);
    say(`(d) end to end: ${endToEnd.completed} of ${dLoad.requests} accepted completed in ${endToEnd.seconds} s = ${endToEnd.perSecond}/s (backlog drained ${backlogSeconds} s after the load stopped)`);

    // (e) Steady state: the worker's RSS while it ran (a) and drained it; then K open workflows parked in its cache.
    phase = 'e';
    const steady = memory.filter((m) => m.phase === 'd').map((m) => m.workerRss).sort((x, y) => x - y);
    const idleRss = await settledRss(stack.worker.pid);
    const cacheBefore = await scrapeGauge(stack.workerSdkMetricsUrl, 'temporal_sticky_cache_size');
    let parked = 0;
    const parkedIds: string[] = [];
    if (args.cached > 0) {
      // `alert` (severity low, no channel configured) saves its row and waits for `resolve`: an open
      // workflow of ours that stays in the worker's sticky cache.
      for (let i = 0; i < args.cached; i += 50) {
        await Promise.all(
          Array.from({ length: Math.min(50, args.cached - i) }, async (_, j) => {
            const workflowId = `alert:bench-parked:${run}-${i + j}`;
            await client.workflow.start('alert', { taskQueue: TASK_QUEUE, workflowId, args: [{ rule: 'bench-parked', fingerprint: `${run}-${i + j}`, severity: 'low', summary: 'benchmark: parked workflow' }] });
            parkedIds.push(workflowId);
          }),
        );
      }
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline) {
        parked = (await scrapeGauge(stack.workerSdkMetricsUrl, 'temporal_sticky_cache_size')) - cacheBefore;
        const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM alerts WHERE rule = 'bench-parked' AND fingerprint LIKE $1`, [`${run}-%`]);
        if (Number(rows[0]!.n) >= args.cached && parked >= args.cached * 0.95) break;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
    const parkedRss = await settledRss(stack.worker.pid);
    const workerMemory = {
      steadyRssMiB: round(percentile(steady, 50) / 2 ** 20),
      steadyRssMaxMiB: round((steady[steady.length - 1] ?? NaN) / 2 ** 20),
      idleRssMiB: round(idleRss / 2 ** 20),
      cachedWorkflows: parked,
      rssWithCachedMiB: round(parkedRss / 2 ** 20),
      perThousandCachedMiB: parked > 0 ? round(((parkedRss - idleRss) / 2 ** 20) * (1000 / parked)) : NaN,
    };
    say(`(e) worker RSS: steady ${workerMemory.steadyRssMiB} MiB; ${parked} parked workflows add ${round((parkedRss - idleRss) / 2 ** 20)} MiB = ${workerMemory.perThousandCachedMiB} MiB per 1 000`);
    // Close the parked alerts so the bench database does not keep them firing.
    for (let i = 0; i < parkedIds.length; i += 100) {
      await Promise.all(parkedIds.slice(i, i + 100).map((id) => client.workflow.getHandle(id).signal('resolve', { reason: 'benchmark finished' }).catch(() => undefined)));
    }

    const ratios = { ingestVsBare: round(ingest.perSecond / bare.perSecond, 3), ingestVsRaw: round(ingest.perSecond / rawHttp.perSecond, 3) };
    const targets = {
      ingestVsBare: { target: `≥ ${TARGETS.ingestVsBare}`, met: ratios.ingestVsBare >= TARGETS.ingestVsBare },
      p99Ms: { target: `≤ ${TARGETS.p99Ms}`, met: ingest.p99Ms <= TARGETS.p99Ms },
      endToEndPerSecond: { target: `≥ ${TARGETS.endToEndPerSecond}`, met: endToEnd.perSecond >= TARGETS.endToEndPerSecond },
    };
    const ms = (r: LoadResult): string => `${r.p50Ms} / ${r.p99Ms}`;
    const lines = [
      '',
      `| measurement (${args.connections} connections, ${args.duration} s, ${args.payloads} payloads) | per second | p50 / p99 ms | failures | busy cores: temporal / worker / HTTP server / load gen (machine busy) |`,
      '|---|---|---|---|---|',
      ...(
        [
          ['(a) webhook ingest via API', ingest, ingestCpu, 'api'],
          ['(b) bare Temporal client start', bare, bareCpu, 'api'],
          ['(c) raw node:http 202', rawHttp, rawCpu, 'raw node:http'],
        ] as const
      ).map(([name, r, cpu, server]) => `| ${name} | ${r.perSecond} | ${ms(r)} | ${r.failures} | ${cpuLine(cpu, server)} |`),
      `| (d) end to end, ledger completed | ${endToEnd.perSecond} | — | ${endToEnd.failed} | ${cpuLine(drainCpu, 'api')} |`,
      '',
      `(a)/(b) = ${ratios.ingestVsBare} (target ${targets.ingestVsBare.target}: ${targets.ingestVsBare.met ? 'met' : 'MISSED'})`,
      `(a)/(c) = ${ratios.ingestVsRaw}`,
      `(a) p99 = ${ingest.p99Ms} ms (target ${targets.p99Ms.target}: ${targets.p99Ms.met ? 'met' : 'MISSED'})`,
      `(d) = ${endToEnd.perSecond}/s (target ${targets.endToEndPerSecond.target}: ${targets.endToEndPerSecond.met ? 'met' : 'MISSED'})`,
      `(e) worker RSS steady ${workerMemory.steadyRssMiB} MiB (max ${workerMemory.steadyRssMaxMiB}), +${workerMemory.perThousandCachedMiB} MiB per 1 000 cached workflows (${parked} measured)`,
    ];
    console.log(lines.join('\n'));

    phase = 'stop';
    clearInterval(sampler);
    await connection.close();
    await pool.end();
    const pidNames = new Map(Object.entries(pids).map(([name, pid]) => [pid, name]));
    await stack.stop();

    let profiles: Record<string, ReturnType<typeof summariseCpuProfile> & { file: string }> | undefined;
    if (args.cpuProf) {
      profiles = {};
      for (const file of cpuProfilesIn(profileDir)) {
        // CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile; the worker's thread 1 runs the workflow sandbox.
        const [, pid, thread] = /\.(\d+)\.(\d+)\.\d+\.cpuprofile$/.exec(file) ?? [];
        const owner = pidNames.get(Number(pid)) ?? `pid ${pid}`;
        const name = thread === '0' ? owner : `${owner} (thread ${thread}${owner === 'worker' ? ': workflow sandbox' : ''})`;
        profiles[name] = { file: path.relative(projectRoot, file), ...summariseCpuProfile(file) };
        console.log(`\n[profile] ${name}: ${profiles[name].totalMs} ms on CPU; by package ${JSON.stringify(profiles[name].byPackage)}`);
        for (const h of profiles[name].hotspots.slice(0, 8)) console.log(`  ${(h.share * 100).toFixed(1)}%  ${h.function}  ${h.where}`);
      }
    }

    const out = path.join(resultsDir, args.payloads === 'plain' ? 'ingest-plain.json' : 'ingest.json');
    mkdirSync(resultsDir, { recursive: true });
    const report = {
      at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.type()} ${os.release()}`, temporalCli: readVersion() },
      args,
      ingest,
      bare,
      rawHttp,
      endToEnd: { ...endToEnd, accepted: dLoad.requests, acceptedPerSecond: dLoad.perSecond, backlogSecondsAfterLoad: backlogSeconds },
      workerMemory,
      ratios,
      targets,
      cpu: { a: ingestCpu, b: bareCpu, c: rawCpu, d: drainCpu },
      profiles,
    };
    writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    say(`wrote ${path.relative(projectRoot, out)}`);
  } finally {
    clearInterval(sampler);
    await stack.stop();
  }
}

/** Busy cores of the dev server, the worker, the HTTP server under load (`server`) and the load generator. */
function cpuLine(cpu: CpuShare, server: string): string {
  const c = cpu.cores;
  return `${c['temporal server']} / ${c.worker} / ${c[server]} / ${c['load generator']} (${Math.round(cpu.machineBusy * 100)}%)`;
}

function readVersion(): string {
  try {
    return readFileSync(path.join(projectRoot, '.tools', 'bin', 'temporal.version'), 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

main().catch((err: unknown) => {
  console.error(`[bench] failed: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
