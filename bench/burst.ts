/**
 * Burst benchmark (issue 21, the durable inbox): on the real stack (bench/stack.ts), side by side
 * in one run:
 *   (f) Express + Stripe signature check alone: the least the API's accept path can cost;
 *   (g) burst accept rate through the full API: signed, unique Stripe webhooks, accepted/s and ack
 *       latency, and the ratio to (f) at the same connections (both at every --accept-connections,
 *       16 and 64 by default: every (f), then every (g)); each (g) twice, the API alone (the workers
 *       paused) and with the drain running beside it;
 *   (h) a burst of N webhooks as fast as the load generator sends them (64 connections by
 *       default): every ack's latency, the 5xx count, then the drain (the burst's ledger rows
 *       sampled every 250 ms until all are completed) and "processed exactly once" (N completed
 *       ledger rows, N payment rows);
 *   (i) the Temporal floor: a bench-only worker (bench/floor.ts) running a workflow of two no-op
 *       local activities, executed by a client at the same concurrency, right after (h)'s drain;
 *       the ratio (h) drained completions/s ÷ (i) completions/s.
 * The phases run in the order h, i, f, g: (h)'s drain must start on an empty backlog and (i) must
 * follow it back to back; (f) and (g) follow each other. Writes bench/results/burst.json (with
 * (h)'s backlog samples) and the backlog chart docs/images/burst-backlog.svg.
 *   node dist/bench/burst.js [--phases=f,g,h,i] [--burst=20000] [--connections=64] [--duration=10]
 *     [--accept-connections=16,64] [--drain-nice=10] [--warmup=500] [--drain-timeout=S]
 *     [--payloads=encrypted|plain] [--svg=path|none] [--workers=1]
 *     [--temporal=host:port [--temporal-pid=N]] [--results=bench/results/burst.json]
 * --drain-nice runs the drain's processes (the own dev server, the workers) at that nice value, so
 * that on one shared machine the API's answers get the CPU first, as an API on its own cores would;
 * --workers runs that many worker processes (each with its drainer); --temporal uses a Temporal
 * server that is already running instead of an own dev server, e.g. `npm run temporal:postgres`
 * (127.0.0.1:7433), whose pid (for the CPU figures) is read from .data/temporal-postgres/server.pid
 * unless --temporal-pid gives it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';
import { Client, Connection } from '@temporalio/client';
import type { Pool } from 'pg';
import Stripe from 'stripe';
import { DRAIN_NICE, renice } from '../lib/process-priority';
import type { Keyring } from '../lib/security/keyring';
import { payloadDataConverter } from '../lib/security/payload-codec';
import { projectRoot } from '../lib/config/paths';
import { lineChartSvg } from './chart';
import { CpuAccount, httpLoad, readVersion, round, stripeEventBody, summarise, withInboxStack, type CpuShare, type LoadResult, type Samples } from './common';
import type { benchFloor } from './floor-workflows';
import { percentile, type NodeProcess, type Stack } from './stack';

const TARGETS = { acceptPerSecond: 2000, acceptVsExpress: 0.3, acceptP99Ms: 25, ackWithinMs: 5000, drainVsFloor: 1.0 };
const SIGNING_SECRET = 'whsec_bench_burst';
const FLOOR_TASK_QUEUE = 'bench-floor';
const PHASES = ['f', 'g', 'h', 'i'] as const;
type Phase = (typeof PHASES)[number];
const say = (line: string): void => console.log(`[bench] ${line}`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Args {
  phases: Set<Phase>;
  burst: number;
  connections: number;
  duration: number;
  warmup: number;
  /** Seconds after the burst's last ack before the drain is given up; 0: derived from the burst size. */
  drainTimeout: number;
  payloads: 'encrypted' | 'plain';
  svg: string;
  workers: number;
  /** Connections of (f) and (g), each measured at every one of them. */
  acceptConnections: number[];
  /** Nice value of the drain's processes (the own Temporal dev server and the workers); 0: as started. */
  drainNice: number;
  /** An already running Temporal server (address, pid), or undefined for an own dev server. */
  temporal: { address: string; pid: number } | undefined;
  results: string;
}

const USAGE =
  '--phases=f,g,h,i --burst=n --connections=n --duration=s --warmup=n --drain-timeout=s --payloads=encrypted|plain --svg=path|none --workers=n --accept-connections=n,n --drain-nice=n --temporal=host:port --temporal-pid=n --results=path';

/** The pid of the server `npm run temporal:postgres` started, from its pid file. */
function temporalPostgresPid(): number {
  const file = path.join(projectRoot, '.data', 'temporal-postgres', 'server.pid');
  const pid = Number(existsSync(file) ? readFileSync(file, 'utf8').trim() : NaN);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`--temporal needs --temporal-pid=N (the server's process id, for the CPU figures): ${path.relative(projectRoot, file)} holds none`);
  return pid;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    phases: new Set(PHASES),
    burst: 20_000,
    connections: 64,
    duration: 10,
    warmup: 500,
    drainTimeout: 0,
    payloads: 'encrypted',
    svg: path.join(projectRoot, 'docs', 'images', 'burst-backlog.svg'),
    workers: 1,
    acceptConnections: [16, 64],
    drainNice: DRAIN_NICE,
    temporal: undefined,
    results: path.join(projectRoot, 'bench', 'results', 'burst.json'),
  };
  let temporalPid: number | undefined;
  for (const arg of argv) {
    const [name, value = ''] = arg.replace(/^--/, '').split('=') as [string, string | undefined];
    if (name === 'phases') {
      const wanted = value.split(',').map((p) => p.trim()).filter(Boolean);
      const unknown = wanted.filter((p) => !(PHASES as readonly string[]).includes(p));
      if (wanted.length === 0 || unknown.length > 0) throw new Error(`--phases is a list of ${PHASES.join(',')}, got "${value}"`);
      args.phases = new Set(wanted as Phase[]);
    } else if (name === 'payloads') {
      if (value !== 'encrypted' && value !== 'plain') throw new Error(`--payloads is encrypted or plain, got "${value}"`);
      args.payloads = value;
    } else if (name === 'svg') {
      args.svg = value === 'none' ? '' : path.resolve(value);
    } else if (name === 'results') {
      args.results = path.resolve(value);
    } else if (name === 'accept-connections') {
      const list = value.split(',').map(Number);
      if (list.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--accept-connections is a list of whole numbers, got "${value}"`);
      args.acceptConnections = list;
    } else if (name === 'drain-nice') {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0 || n > 19) throw new Error(`--drain-nice is 0 to 19, got "${value}"`);
      args.drainNice = n;
    } else if (name === 'temporal') {
      if (!/^[\w.-]+:\d+$/.test(value)) throw new Error(`--temporal is host:port, got "${value}"`);
      args.temporal = { address: value, pid: NaN };
    } else if (['burst', 'connections', 'duration', 'warmup', 'drain-timeout', 'workers', 'temporal-pid'].includes(name)) {
      const n = Number(value);
      if (!Number.isInteger(n) || n < (name === 'warmup' || name === 'drain-timeout' ? 0 : 1)) throw new Error(`--${name} needs a whole number, got "${value}"`);
      if (name === 'drain-timeout') args.drainTimeout = n;
      else if (name === 'temporal-pid') temporalPid = n;
      else args[name as 'burst' | 'connections' | 'duration' | 'warmup' | 'workers'] = n;
    } else throw new Error(`unknown argument "${arg}" (${USAGE})`);
  }
  if (args.temporal) args.temporal.pid = temporalPid ?? temporalPostgresPid();
  else if (temporalPid !== undefined) throw new Error('--temporal-pid goes with --temporal');
  return args;
}

/**
 * (f) and (g) at one concurrency; (g) twice: with the workers paused (SIGSTOP: the API alone on the
 * machine, what an API on its own cores accepts) and with the drain running beside it.
 */
interface AcceptPair {
  connections: number;
  f?: LoadResult;
  cpuF?: CpuShare;
  gAlone?: LoadResult;
  cpuGAlone?: CpuShare;
  g?: LoadResult;
  cpuG?: CpuShare;
}

/** (h) as the load generator saw it: every response's status and latency. */
interface BurstSend {
  sent: number;
  accepted: number;
  status4xx: number;
  status5xx: number;
  /** Connection errors and requests with no answer within autocannon's timeout (30 s). */
  errors: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** Accepted acks slower than 5 s. */
  acksOver5s: number;
  everyAckWithin5s: boolean;
}

/** `amount` requests, as fast as `connections` connections carry them; `onAck` is told of every 2xx. */
async function burstLoad(url: string, connections: number, amount: number, makeRequest: () => autocannon.Request, onAck: () => void): Promise<BurstSend> {
  const latencies: number[] = [];
  let status4xx = 0;
  let status5xx = 0;
  let other = 0;
  const started = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const options: autocannon.Options = { url, connections, amount, timeout: 30, requests: [{ method: 'POST', setupRequest: () => makeRequest() }] };
    const instance = autocannon(options, (err: Error | null, done: autocannon.Result) => (err ? reject(err) : resolve(done)));
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (statusCode >= 200 && statusCode < 300) {
        latencies.push(responseTime);
        onAck();
      } else if (statusCode >= 500) status5xx++;
      else if (statusCode >= 400) status4xx++;
      else other++;
    });
  });
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const errors = result.errors + result.timeouts + other;
  const acksOver5s = latencies.filter((ms) => ms > TARGETS.ackWithinMs).length;
  return {
    sent: latencies.length + status4xx + status5xx + errors,
    accepted: latencies.length,
    status4xx,
    status5xx,
    errors,
    seconds: round(seconds, 2),
    perSecond: round(latencies.length / seconds),
    p50Ms: round(percentile(latencies, 50), 1),
    p90Ms: round(percentile(latencies, 90), 1),
    p99Ms: round(percentile(latencies, 99), 1),
    p999Ms: round(percentile(latencies, 99.9), 1),
    maxMs: round(latencies[latencies.length - 1] ?? NaN, 1),
    acksOver5s,
    everyAckWithin5s: acksOver5s === 0 && errors === 0 && latencies.length === amount,
  };
}

/** One sample of the burst's rows: `t` seconds since the burst began. */
interface BacklogSample {
  t: number;
  /** 2xx answers the load generator had received. */
  acked: number;
  /** Ledger rows of the burst (committed by the API with the inbox; by the workflow before it). */
  rows: number;
  unstarted: number;
  completed: number;
  failed: number;
}

interface BurstRowCounts {
  rows: number;
  unstarted: number;
  completed: number;
  failed: number;
}

async function burstRows(pool: Pool, tenant: string, prefix: string): Promise<BurstRowCounts> {
  // The run's own tenant selects through the (tenant, provider, received_at) index; the prefix picks the phase.
  const { rows } = await pool.query<BurstRowCounts>(
    `SELECT count(*)::int AS rows,
            count(*) FILTER (WHERE started_at IS NULL)::int AS unstarted,
            count(*) FILTER (WHERE status = 'completed')::int AS completed,
            count(*) FILTER (WHERE status = 'failed')::int AS failed
       FROM webhook_events WHERE tenant = $1 AND provider = 'stripe' AND event_id LIKE $2`,
    [tenant, `${prefix}%`],
  );
  return rows[0]!;
}

interface DrainResult {
  finished: boolean;
  /** Why the wait ended: all done, the timeout, or no progress for 60 s. */
  ended: 'done' | 'timeout' | 'stalled';
  /** Burst start to the last completion, seconds. */
  seconds: number;
  /** Last ack to the last completion, seconds: how long the backlog outlived the burst. */
  afterLastAckSeconds: number;
  /** Completed rows / (last completed_at − first received_at). */
  completionsPerSecond: number;
  /** Completions after the last ack / the time they took: the drain with the API idle. */
  afterLastAckPerSecond: number;
  ledgerRows: number;
  distinctEvents: number;
  completed: number;
  failed: number;
  payments: number;
  distinctPayments: number;
  exactlyOnce: boolean;
}

/** Waits until `expected` rows of the prefix are completed or failed (at most 5 minutes). */
async function waitAndSettle(pool: Pool, tenant: string, prefix: string, expected: number): Promise<void> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const counts = await burstRows(pool, tenant, prefix);
    if (counts.completed + counts.failed >= expected || Date.now() > deadline) return;
    await sleep(250);
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/switchyard_bench';
  const run = Date.now().toString(36);
  const tenant = `bench${run}`;
  say(
    `burst: phases ${[...args.phases].join(',')}, ${args.connections} connections, burst ${args.burst}, ${args.duration} s per timed phase, ${args.payloads} payloads, ` +
    `${args.workers} worker process${args.workers === 1 ? '' : 'es'}, Temporal ${args.temporal ? `at ${args.temporal.address}` : 'dev server (own)'}`,
  );

  // An earlier run that stopped mid-burst leaves inbox rows nobody started; the drainer would take
  // them (oldest first) before this run's. The bench database is the benchmarks' own.
  await withInboxStack(
    { databaseUrl, tenant, signingSecret: SIGNING_SECRET, payloads: args.payloads, say, temporal: args.temporal, workers: args.workers },
    (stack, pool, keyring) => measure(stack, pool, args, run, tenant, keyring),
  );
}

async function measure(stack: Stack, pool: Pool, args: Args, run: string, tenant: string, keyring: Keyring | undefined): Promise<void> {
  const has = (phase: Phase): boolean => args.phases.has(phase);
  const pids: Record<string, number> = { 'temporal server': stack.temporalPid, ...Object.fromEntries(stack.workers.map((w) => [w.name, w.pid])), api: stack.api.pid };
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
  /**
   * Requests for a timed phase of `seconds`, signed beforehand (up to 6 000 a second; any beyond
   * are signed as they go), so the load generator's HMACs do not compete with what it measures.
   */
  const presigned = (prefix: string, seconds: number): (() => autocannon.Request) => {
    const live = signedWebhook(prefix);
    const ready = Array.from({ length: seconds * 6000 }, live);
    let next = 0;
    return () => (next < ready.length ? ready[next++]! : live());
  };
  // The drain (the own Temporal dev server and the workers) yields the CPU to the API's answers.
  const drainPids = [...(args.temporal ? [] : [stack.temporalPid]), ...stack.workers.map((w) => w.pid)];
  if (args.drainNice > 0) {
    for (const pid of drainPids) renice(pid, args.drainNice);
    say(`drain processes (pids ${drainPids.join(', ')}) at nice ${args.drainNice}`);
  }
  const cpu: Record<string, CpuShare> = {};
  const report: Record<string, unknown> = {};

  // Warm-up: JIT, pools and the worker's cache, by a count of webhooks (not a duration: with the
  // inbox a few seconds at full speed would be thousands of rows to drain), then drained.
  if (args.warmup > 0 && (has('g') || has('h'))) {
    const warm = await burstLoad(stack.apiUrl, Math.min(args.connections, 16), args.warmup, signedWebhook('w_'), () => undefined);
    await waitAndSettle(pool, tenant, `evt_w_${run}_`, warm.accepted);
    say(`warm-up: ${warm.accepted} webhooks accepted and processed`);
  }

  // (h) the burst, and its drain sampled every 250 ms from the burst's first request on.
  let drainPerSecond = NaN;
  let drainAfterAckPerSecond = NaN;
  if (has('h')) {
    const prefix = `evt_h_${run}_`;
    const samples: BacklogSample[] = [];
    let acked = 0;
    let lastAckAt = NaN;
    let sampling = true;
    const burstStartedAt = Date.now();
    const sampler = (async () => {
      while (sampling) {
        const tick = Date.now();
        const counts = await burstRows(pool, tenant, prefix);
        samples.push({ t: round((tick - burstStartedAt) / 1000, 2), acked, ...counts });
        await sleep(Math.max(0, 250 - (Date.now() - tick)));
      }
    })();
    const account = new CpuAccount(pids);
    say(`(h) burst of ${args.burst} webhooks at ${args.connections} connections…`);
    const send = await account.run(() =>
      burstLoad(stack.apiUrl, args.connections, args.burst, signedWebhook('h_'), () => {
        acked++;
        lastAckAt = Date.now();
      }),
    );
    cpu.hSend = account.share();
    say(`(h) sent ${send.sent} in ${send.seconds} s: ${send.accepted} accepted (${send.perSecond}/s), ack p50 ${send.p50Ms} / p99 ${send.p99Ms} / max ${send.maxMs} ms, 5xx ${send.status5xx}, 4xx ${send.status4xx}, errors ${send.errors}; draining…`);

    const timeoutS = args.drainTimeout > 0 ? args.drainTimeout : Math.max(120, Math.ceil(args.burst / 20));
    const drainAccount = new CpuAccount(pids);
    const ended = await drainAccount.run(async (): Promise<DrainResult['ended']> => {
      const deadline = Date.now() + timeoutS * 1000;
      let progress = { completed: -1, at: Date.now() };
      for (;;) {
        await sleep(250);
        const last = samples[samples.length - 1];
        if (last && last.completed + last.failed >= send.accepted && last.t * 1000 >= lastAckAt - burstStartedAt) return 'done';
        if (Date.now() > deadline) return 'timeout';
        if (last && last.completed !== progress.completed) progress = { completed: last.completed, at: Date.now() };
        if (Date.now() - progress.at > 60_000) return 'stalled';
      }
    });
    cpu.hDrain = drainAccount.share();
    sampling = false;
    await sampler;

    const { rows } = await pool.query<{ rows: number; events: number; completed: number; failed: number; first_received: number | null; last_completed: number | null }>(
      `SELECT count(*)::int AS rows, count(DISTINCT event_id)::int AS events,
              count(*) FILTER (WHERE status = 'completed')::int AS completed,
              count(*) FILTER (WHERE status = 'failed')::int AS failed,
              (extract(epoch FROM min(received_at)) * 1000)::float8 AS first_received,
              (extract(epoch FROM max(completed_at)) * 1000)::float8 AS last_completed
         FROM webhook_events WHERE tenant = $1 AND provider = 'stripe' AND event_id LIKE $2`,
      [tenant, `${prefix}%`],
    );
    const ledger = rows[0]!;
    // payment_intent.succeeded records one `payments` row per payment intent id (pi_ + the event id's tail).
    const paid = await pool.query<{ payments: number; distinct: number }>(
      `SELECT count(*)::int AS payments, count(DISTINCT payment_id)::int AS distinct
         FROM payments WHERE tenant = $1 AND provider = 'stripe' AND payment_id LIKE $2`,
      [tenant, `pi_h_${run}_%`],
    );
    const payments = paid.rows[0]!;
    const firstReceived = ledger.first_received ?? burstStartedAt;
    const lastCompleted = ledger.last_completed ?? NaN;
    const completedAtLastAck = [...samples].reverse().find((s) => s.t * 1000 <= lastAckAt - burstStartedAt)?.completed ?? 0;
    const afterLastAckSeconds = (lastCompleted - lastAckAt) / 1000;
    const drain: DrainResult = {
      finished: ended === 'done',
      ended,
      seconds: round((lastCompleted - burstStartedAt) / 1000, 2),
      afterLastAckSeconds: round(afterLastAckSeconds, 2),
      completionsPerSecond: round(ledger.completed / ((lastCompleted - firstReceived) / 1000)),
      afterLastAckPerSecond: afterLastAckSeconds >= 2 ? round((ledger.completed - completedAtLastAck) / afterLastAckSeconds) : NaN,
      ledgerRows: ledger.rows,
      distinctEvents: ledger.events,
      completed: ledger.completed,
      failed: ledger.failed,
      payments: payments.payments,
      distinctPayments: payments.distinct,
      exactlyOnce: ledger.rows === send.accepted && ledger.events === send.accepted && ledger.completed === send.accepted && payments.distinct === send.accepted && payments.payments === send.accepted,
    };
    drainPerSecond = drain.completionsPerSecond;
    drainAfterAckPerSecond = drain.afterLastAckPerSecond;
    say(
      `(h) drain ${ended}: ${drain.completed}/${send.accepted} completed (${drain.failed} failed) ${drain.seconds} s after the burst began, ${drain.afterLastAckSeconds} s after its last ack; ` +
      `${drain.completionsPerSecond} completions/s; exactly once: ${drain.exactlyOnce ? 'yes' : 'NO'} (${drain.ledgerRows} ledger rows, ${drain.payments} payments)`,
    );
    report.h = { burst: args.burst, send, drain, drainTimeoutSeconds: timeoutS, samples };
    if (args.svg) {
      mkdirSync(path.dirname(args.svg), { recursive: true });
      const series = (key: 'acked' | 'unstarted' | 'completed'): Array<[number, number]> => samples.map((s) => [s.t, s[key]]);
      writeFileSync(
        args.svg,
        lineChartSvg({
          title: `Burst of ${args.burst} Stripe webhooks: backlog over time`,
          subtitle: `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${args.connections} connections, ${args.payloads} payloads; drain ${drain.completionsPerSecond}/s, exactly once: ${drain.exactlyOnce ? 'yes' : 'no'}`,
          xLabel: 'seconds since the burst began',
          yLabel: 'webhooks',
          series: [
            { name: 'acked by the API (2xx)', colour: '#9e9e9e', points: series('acked'), dashed: true },
            { name: 'unstarted (inbox backlog)', colour: '#e65100', points: series('unstarted') },
            { name: 'completed (ledger)', colour: '#1565c0', points: series('completed') },
          ],
          markers: Number.isFinite(lastAckAt) ? [{ x: (lastAckAt - burstStartedAt) / 1000, label: 'last ack' }] : [],
        }),
      );
      say(`wrote ${path.relative(projectRoot, args.svg)}`);
    }
  }

  // (i) the Temporal floor, back to back with (h)'s drain.
  let floorPerSecond = NaN;
  if (has('i')) {
    const connection = await Connection.connect({ address: stack.temporalAddress });
    const client = new Client({ connection, namespace: 'default', dataConverter: payloadDataConverter(keyring) });
    const floorWorker = stack.spawn('floor-worker', path.join(__dirname, 'floor.js'), [FLOOR_TASK_QUEUE]);
    if (args.drainNice > 0) renice(floorWorker.pid, args.drainNice);
    try {
      let floorSeq = 0;
      const once = async (): Promise<void> => {
        await client.workflow.execute<typeof benchFloor>('benchFloor', { taskQueue: FLOOR_TASK_QUEUE, workflowId: `bench-floor:${run}:${floorSeq++}`, args: [] });
      };
      await untilFloorWorkerAnswers(floorWorker, once);
      await floorLoops(once, args.connections, Math.min(3, args.duration)); // warm-up
      const account = new CpuAccount({ ...pids, 'floor worker': floorWorker.pid });
      const floor = summarise([await account.run(() => floorLoops(once, args.connections, args.duration))]);
      cpu.i = account.share();
      floorPerSecond = floor.perSecond;
      report.i = floor;
      say(`(i) Temporal floor: ${floor.perSecond} workflows/s completed (two local no-op activities each), p50 ${floor.p50Ms} ms, p99 ${floor.p99Ms} ms, ${floor.failures} failures`);
    } finally {
      await floorWorker.stop();
      await connection.close();
    }
  }

  // (f) at each of the accept connections, then (g) at each: every (f) before any (g), so that no
  // (f) shares the machine with the drain of a (g)'s load. The requests are signed before each
  // timed phase, so the load generator's own HMACs are not part of what it measures.
  const accepts: AcceptPair[] = args.acceptConnections.map((connections) => ({ connections }));
  /**
   * One timed (f) or (g) load at `connections`: its requests signed first, then `paused` stopped
   * (SIGSTOP) for the measurement and resumed; the busy cores of `accounted` while it runs.
   */
  const timedAccept = async (label: string, url: string, connections: number, prefix: string, accounted: Record<string, number>, paused: ChildProcess[] = []) => {
    const requests = presigned(prefix, args.duration);
    const account = new CpuAccount(accounted);
    for (const p of paused) p.kill('SIGSTOP');
    let result: LoadResult;
    try {
      result = summarise([await account.run(() => httpLoad(url, connections, args.duration, requests))]);
    } finally {
      for (const p of paused) p.kill('SIGCONT');
    }
    say(`${label} at ${connections} connections: ${result.perSecond}/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ${result.failures} failures`);
    return { result, share: account.share() };
  };
  if (has('f')) {
    const server = await stack.startExpressServer();
    for (const pair of accepts) {
      await httpLoad(server.url, pair.connections, 2, presigned(`fw${pair.connections}_`, 2)); // warm-up
      ({ result: pair.f, share: pair.cpuF } = await timedAccept('(f) Express + signature check', server.url, pair.connections, `f${pair.connections}_`, { ...pids, 'express server': server.process.pid }));
    }
    await server.process.stop();
  }
  if (has('g')) {
    for (const pair of accepts) {
      // The API alone: the workers stopped (nothing drains, the dev server idles), then resumed.
      const workers = stack.workers.map((w) => w.child);
      ({ result: pair.gAlone, share: pair.cpuGAlone } = await timedAccept('(g) burst accept via API alone', stack.apiUrl, pair.connections, `ga${pair.connections}_`, pids, workers));
      ({ result: pair.g, share: pair.cpuG } = await timedAccept('(g) burst accept via API, drain running,', stack.apiUrl, pair.connections, `g${pair.connections}_`, pids));
    }
  }
  report.accept = accepts;

  const vsExpress = (g: LoadResult | undefined, f: LoadResult | undefined): number => (g && f ? round(g.perSecond / f.perSecond, 3) : NaN);
  const ratios = {
    acceptVsExpress: Object.fromEntries(accepts.map((a) => [a.connections, { alone: vsExpress(a.gAlone, a.f), drainRunning: vsExpress(a.g, a.f) }])),
    drainVsFloor: round(drainPerSecond / floorPerSecond, 3),
    /** The same with the drain's part after the last ack only: the API idle, as it is during (i). */
    drainAfterAckVsFloor: round(drainAfterAckPerSecond / floorPerSecond, 3),
  };
  const verdict = (met: boolean | undefined): string => (met === undefined ? 'not measured' : met ? 'met' : 'MISSED');
  const h = report.h as { send: BurstSend; drain: DrainResult } | undefined;
  const acceptTargets = (g: LoadResult | undefined, f: LoadResult | undefined) => ({
    acceptPerSecond: { target: `≥ ${TARGETS.acceptPerSecond}/s`, met: g && g.perSecond >= TARGETS.acceptPerSecond },
    acceptVsExpress: { target: `≥ ${TARGETS.acceptVsExpress}`, met: g && f && vsExpress(g, f) >= TARGETS.acceptVsExpress },
    acceptP99Ms: { target: `≤ ${TARGETS.acceptP99Ms} ms`, met: g && g.p99Ms <= TARGETS.acceptP99Ms },
  });
  const targets = {
    accept: Object.fromEntries(accepts.map((a) => [a.connections, { alone: acceptTargets(a.gAlone, a.f), drainRunning: acceptTargets(a.g, a.f) }])),
    everyAckWithin5s: { target: 'every ack ≤ 5 s', met: h?.send.everyAckWithin5s },
    no5xx: { target: '0 5xx', met: h && h.send.status5xx === 0 },
    exactlyOnce: { target: 'N ledger rows completed, N payments', met: h?.drain.exactlyOnce },
    drainVsFloor: { target: `≥ ${TARGETS.drainVsFloor}`, met: h && has('i') ? ratios.drainVsFloor >= TARGETS.drainVsFloor : undefined },
  };
  const cores = (share: CpuShare | undefined): string =>
    share
      ? `${Object.entries(share.cores)
        .map(([name, c]) => `${name} ${c}`)
        .join(', ')} (machine ${Math.round(share.machineBusy * 100)}%)`
      : '';
  const row = (name: string, r: LoadResult | undefined, share: CpuShare | undefined): string =>
    r ? `| ${name} | ${r.perSecond} | ${r.p50Ms} / ${r.p99Ms} | ${r.failures} | ${cores(share)} |` : `| ${name} | not run | | | |`;
  const lines = [
    '',
    `| measurement (${args.payloads} payloads; (h) and (i) at ${args.connections} connections) | per second | p50 / p99 ms | failures | busy cores |`,
    '|---|---|---|---|---|',
    ...accepts.flatMap((a) => [
      row(`(f) Express + Stripe signature alone, ${a.connections} connections`, a.f, a.cpuF),
      row(`(g) burst accept via API alone (workers paused), ${a.connections} connections`, a.gAlone, a.cpuGAlone),
      row(`(g) burst accept via API, drain running, ${a.connections} connections`, a.g, a.cpuG),
    ]),
    h
      ? `| (h) burst of ${args.burst}: accepted | ${h.send.perSecond} | ${h.send.p50Ms} / ${h.send.p99Ms} (max ${h.send.maxMs}) | 5xx ${h.send.status5xx}, 4xx ${h.send.status4xx}, errors ${h.send.errors} | ${cores(cpu.hSend)} |`
      : '| (h) burst | not run | | | |',
    h ? `| (h) drain: completions | ${h.drain.completionsPerSecond} | — | ${h.drain.failed} failed | ${cores(cpu.hDrain)} |` : '',
    row('(i) Temporal floor (2 local no-ops)', report.i as LoadResult | undefined, cpu.i),
    '',
    ...accepts.flatMap((a) =>
      ([['alone', a.gAlone], ['drain running', a.g]] as const).map(([how, g]) => {
        const t = acceptTargets(g, a.f);
        return (
          `(g) ${how}, ${a.connections} connections: ${g?.perSecond ?? 'n/a'} accepted/s (target ${t.acceptPerSecond.target}: ${verdict(t.acceptPerSecond.met)}), ` +
          `(g)/(f) = ${vsExpress(g, a.f)} (target ${t.acceptVsExpress.target}: ${verdict(t.acceptVsExpress.met)}), ` +
          `p99 ${g?.p99Ms ?? 'n/a'} ms (target ${t.acceptP99Ms.target}: ${verdict(t.acceptP99Ms.met)})`
        );
      }),
    ),
  ];
  if (h) {
    lines.push(
      `(h) every ack within 5 s: ${h.send.everyAckWithin5s ? 'yes' : 'NO'} (max ${h.send.maxMs} ms, ${h.send.acksOver5s} over 5 s, ${h.send.errors} without an answer); 5xx: ${h.send.status5xx} (target 0: ${verdict(targets.no5xx.met)})`,
      `(h) drain ${h.drain.ended}: ${h.drain.completed}/${h.send.accepted} completed ${h.drain.seconds} s after the burst began (${h.drain.afterLastAckSeconds} s after the last ack), ${h.drain.completionsPerSecond} completions/s` +
      (Number.isFinite(h.drain.afterLastAckPerSecond) ? ` (${h.drain.afterLastAckPerSecond}/s after the last ack)` : ''),
      `(h) processed exactly once: ${h.drain.exactlyOnce ? 'yes' : 'NO'} (${h.drain.distinctEvents} distinct ledger rows of ${h.drain.ledgerRows}, ${h.drain.completed} completed, ${h.drain.payments} payment rows, ${h.send.accepted} accepted)`,
    );
  }
  lines.push(
    `(h) drain / (i) floor = ${ratios.drainVsFloor} (target ${targets.drainVsFloor.target}: ${verdict(targets.drainVsFloor.met)}); after the last ack only: ${Number.isFinite(ratios.drainAfterAckVsFloor) ? ratios.drainAfterAckVsFloor : 'n/a'}`,
  );
  console.log(lines.filter((l, i) => l !== '' || i === 0 || lines[i - 1] !== '').join('\n'));

  mkdirSync(path.dirname(args.results), { recursive: true });
  const out = args.results;
  const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.type()} ${os.release()}`, temporalCli: readVersion() };
  writeFileSync(out, `${JSON.stringify({ at: new Date().toISOString(), machine, args: { ...args, phases: [...args.phases] }, ...report, ratios, targets, cpu }, null, 2)}\n`);
  say(`wrote ${path.relative(projectRoot, out)}`);
}

/** The floor worker bundles its workflows first: the first execution waits for it to poll. */
async function untilFloorWorkerAnswers(worker: NodeProcess, once: () => Promise<void>): Promise<void> {
  const exited = new Promise<never>((_, reject) => worker.child.once('exit', (code) => reject(new Error(`the floor worker exited (${code}); see its log in the stack's folder`))));
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the floor worker did not run a workflow within 120 s')), 120_000).unref());
  exited.catch(() => undefined);
  timeout.catch(() => undefined);
  await Promise.race([once(), exited, timeout]);
}

/** `connections` loops each executing one floor workflow after the other (start, wait for its result). */
async function floorLoops(once: () => Promise<void>, connections: number, seconds: number): Promise<Samples> {
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        try {
          await once();
          latencies.push(performance.now() - t);
        } catch {
          failures++;
        }
      }
    }),
  );
  return { latencies, failures, seconds: (performance.now() - started) / 1000 };
}

main().catch((err: unknown) => {
  console.error(`[bench] failed: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
