/**
 * Soak (issue 21, point 6): the real stack (bench/stack.ts) under a steady, open-loop stream of
 * signed, unique Stripe webhooks for `--minutes` at `--rate` webhooks/s (by default half the drain
 * capacity, `--capacity`, that `npm run bench:burst` measures as "(h) drain … completions/s").
 * A timer issues the requests on schedule whatever the answers do (open loop: a slow server does
 * not slow the sender down). Every second the inbox is read (rows with `started_at IS NULL`: how
 * many, and the age of the oldest); every 10 s a window closes: worker, API and dev server RSS
 * (/proc), the window's ack latency p50/p99, 5xx and errors, completions and their end-to-end
 * p99 (received → completed). At the end the sender stops, the backlog is drained and the run's
 * rows are counted: every accepted webhook completed once, one payment each.
 * Printed: a table per minute, the RSS slopes (least squares after the warm-up, MiB per hour), the
 * max inbox lag, the p99 stability (max/min of the per-minute p99s), and the verdicts. Writes
 * bench/results/soak.json. Not part of `npm run bench` nor of CI: `npm run bench:soak`.
 *   node dist/bench/soak.js [--minutes=30] [--rate=R | --capacity=25] [--warmup=M]
 *     [--payloads=encrypted|plain] [--drain-timeout=S]
 * Database: SOAK_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/switchyard_soak, created
 * and migrated when missing), not the other benchmarks' database.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Pool } from 'pg';
import Stripe from 'stripe';
import { projectRoot } from '../lib/config/paths';
import { readVersion, round, stripeEventBody, withInboxStack } from './common';
import { percentile, rssBytes, type Stack } from './stack';

/**
 * What the verdicts call flat, stable and bounded.
 * - RSS slope within ±10 MiB/h, judged on at least 20 minutes of samples after the warm-up: at 12.5
 *   webhooks/s (45 000 an hour) that is under 240 bytes kept per webhook, less than one retained
 *   request, log line or workflow would cost (a leak of 1 KiB per webhook is 44 MiB/h). Tighter
 *   would judge the garbage collector: RSS moves by 10–12 MiB (standard deviation) between 10-s
 *   samples, which over 28 minutes would leave the slope a standard error of about 6 MiB/h.
 * - p99 stable: the slowest minute's ack p99 at most 3× the fastest's (the warm-up left out): a
 *   queue that grows, or a pause that lengthens, moves it by more; the noise of a shared 2-core
 *   machine stays within it.
 * - Inbox lag bounded: the oldest unstarted row never older than 10 s (at half the drain capacity
 *   the drainer should start a row within its poll interval or its NOTIFY, not let a queue build).
 */
const THRESHOLDS = { rssSlopeMiBPerHour: 10, rssMinSampleMinutes: 20, p99MaxOverMin: 3, inboxLagSeconds: 10 };
const DEFAULT_CAPACITY = 25;
const SIGNING_SECRET = 'whsec_bench_soak';
const WINDOW_MS = 10_000;
const INBOX_EVERY_MS = 1_000;
const REQUEST_TIMEOUT_MS = 30_000;
const MIB = 2 ** 20;
const say = (line: string): void => console.log(`[soak] ${line}`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Args {
  minutes: number;
  rate: number;
  capacity: number;
  /** Where the rate came from, for the report. */
  rateFrom: 'rate' | 'capacity' | 'default capacity';
  /** Minutes at the start left out of the slopes and the p99 stability. */
  warmup: number;
  payloads: 'encrypted' | 'plain';
  drainTimeout: number;
}

const USAGE = '--minutes=30 --rate=R | --capacity=N --warmup=M --payloads=encrypted|plain --drain-timeout=S';

function parseArgs(argv: string[]): Args {
  let minutes = 30;
  let rate = NaN;
  let capacity = NaN;
  let warmup = NaN;
  let payloads: Args['payloads'] = 'encrypted';
  let drainTimeout = 300;
  for (const arg of argv) {
    const [name, value = ''] = arg.replace(/^--/, '').split('=') as [string, string | undefined];
    const n = Number(value);
    const positive = (): number => {
      if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} needs a positive number, got "${value}"`);
      return n;
    };
    if (name === 'minutes') minutes = positive();
    else if (name === 'rate') rate = positive();
    else if (name === 'capacity') capacity = positive();
    else if (name === 'warmup') {
      if (!Number.isFinite(n) || n < 0) throw new Error(`--warmup needs minutes ≥ 0, got "${value}"`);
      warmup = n;
    } else if (name === 'drain-timeout') drainTimeout = positive();
    else if (name === 'payloads') {
      if (value !== 'encrypted' && value !== 'plain') throw new Error(`--payloads is encrypted or plain, got "${value}"`);
      payloads = value;
    } else throw new Error(`unknown argument "${arg}" (${USAGE})`);
  }
  const rateFrom: Args['rateFrom'] = Number.isFinite(rate) ? 'rate' : Number.isFinite(capacity) ? 'capacity' : 'default capacity';
  if (!Number.isFinite(capacity)) capacity = DEFAULT_CAPACITY;
  if (!Number.isFinite(rate)) rate = capacity / 2;
  // Two minutes of warm-up, or a third of a short run, so that a short run keeps samples to fit.
  if (!Number.isFinite(warmup)) warmup = Math.min(2, minutes / 3);
  if (warmup >= minutes) throw new Error(`--warmup (${warmup} min) must be shorter than --minutes (${minutes})`);
  return { minutes, rate, capacity, rateFrom, warmup, payloads, drainTimeout };
}

/** What the sender saw in one window: the answers that arrived in it. */
interface SendWindow {
  sent: number;
  acked: number;
  status4xx: number;
  status5xx: number;
  /** Connection errors, timeouts and other statuses. */
  errors: number;
  latencies: number[];
}

const emptyWindow = (): SendWindow => ({ sent: 0, acked: 0, status4xx: 0, status5xx: 0, errors: 0, latencies: [] });

/**
 * Open loop: the i-th request is due at start + i/rate; a 5 ms timer issues whatever is due, on
 * keep-alive connections opened as needed. Latency is from issuing the request to the end of its
 * answer. `slipMs` is how far behind schedule the sender ever issued a request (its own lag).
 */
class OpenLoopSender {
  private window = emptyWindow();
  // Idle sockets are closed after 5 s, before the API's keep-alive timeout (10 s), so that a request
  // never goes out on a socket the server is closing; first in, first out keeps few sockets idle.
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 256, scheduling: 'fifo', timeout: 5_000 });
  private readonly inFlight = new Set<Promise<void>>();
  private issued = 0;
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  slipMs = 0;
  total = emptyWindow();
  /** Requests without an answer, by error code (ECONNRESET, timeout…). */
  readonly errorReasons: Record<string, number> = {};

  constructor(private readonly url: URL, private readonly rate: number, private readonly body: () => string) {}

  start(): void {
    this.startedAt = performance.now();
    this.timer = setInterval(() => this.tick(), 5);
  }

  /** The answers since the last call. */
  takeWindow(): SendWindow {
    const w = this.window;
    this.window = emptyWindow();
    return w;
  }

  /** Stops issuing, waits for every request in flight. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.inFlight]);
    this.agent.destroy();
  }

  private tick(): void {
    const now = performance.now();
    const due = Math.floor(((now - this.startedAt) * this.rate) / 1000) + 1;
    while (this.issued < due) {
      this.slipMs = Math.max(this.slipMs, now - (this.startedAt + (this.issued * 1000) / this.rate));
      this.issued++;
      const request = this.send();
      this.inFlight.add(request);
      void request.finally(() => this.inFlight.delete(request));
    }
  }

  private send(): Promise<void> {
    const body = this.body();
    const signature = Stripe.webhooks.generateTestHeaderString({ payload: body, secret: SIGNING_SECRET });
    this.window.sent++;
    this.total.sent++;
    const t0 = performance.now();
    return new Promise<void>((resolve) => {
      let settled = false;
      const done = (status: number, reason?: string): void => {
        if (settled) return;
        settled = true;
        if (reason !== undefined) this.errorReasons[reason] = (this.errorReasons[reason] ?? 0) + 1;
        const ms = performance.now() - t0;
        for (const w of [this.window, this.total]) {
          if (status >= 200 && status < 300) {
            w.acked++;
            w.latencies.push(ms);
          } else if (status >= 500) w.status5xx++;
          else if (status >= 400) w.status4xx++;
          else w.errors++;
        }
        resolve();
      };
      const req = http.request(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          timeout: REQUEST_TIMEOUT_MS,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'stripe-signature': signature },
        },
        (res) => {
          res.resume();
          res.once('end', () => done(res.statusCode ?? 0));
          res.once('error', (err: NodeJS.ErrnoException) => done(0, err.code ?? err.message));
        },
      );
      req.once('timeout', () => req.destroy(new Error('timeout')));
      req.once('error', (err: NodeJS.ErrnoException) => done(0, err.code ?? err.message));
      req.end(body);
    });
  }
}

/** One 10-s window. */
interface WindowSample {
  /** Seconds since the sender started, at the window's end. */
  t: number;
  sent: number;
  acked: number;
  status4xx: number;
  status5xx: number;
  errors: number;
  ackP50Ms: number;
  ackP99Ms: number;
  workerRssMiB: number;
  apiRssMiB: number;
  temporalRssMiB: number;
  /** Inbox rows waiting (all tenants), the most seen at the 1-s reads of the window. */
  backlogMax: number;
  /** Age of the oldest waiting row, the most seen in the window, seconds. */
  oldestMaxS: number;
  /** This run's rows that became completed in the window. */
  completed: number;
  /** received → completed p99 of those rows, seconds. */
  endToEndP99S: number;
}

interface Inbox {
  backlog: number;
  oldest: number;
}

async function readInbox(pool: Pool): Promise<Inbox> {
  const { rows } = await pool.query<Inbox>(
    `SELECT count(*)::int AS backlog, coalesce(extract(epoch FROM now() - min(received_at)), 0)::float8 AS oldest
       FROM webhook_events WHERE started_at IS NULL`,
  );
  return rows[0]!;
}

interface Completions {
  completed: number;
  failed: number;
  e2eP99: number | null;
  nowMs: number;
}

/** The run's rows completed so far, and the end-to-end p99 of those completed after `sinceMs` (DB clock). */
async function readCompletions(pool: Pool, tenant: string, sinceMs: number): Promise<Completions> {
  const { rows } = await pool.query<Completions>(
    `SELECT count(*) FILTER (WHERE status = 'completed')::int AS completed,
            count(*) FILTER (WHERE status = 'failed')::int AS failed,
            (percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM completed_at - received_at))
              FILTER (WHERE status = 'completed' AND completed_at > to_timestamp($2::float8 / 1000)))::float8 AS "e2eP99",
            (extract(epoch FROM now()) * 1000)::float8 AS "nowMs"
       FROM webhook_events WHERE tenant = $1 AND provider = 'stripe'`,
    [tenant, sinceMs],
  );
  return rows[0]!;
}

/** Least squares: slope of y against x, and its standard error. */
function linearFit(points: Array<[number, number]>): { slope: number; standardError: number } {
  const n = points.length;
  if (n < 3) return { slope: NaN, standardError: NaN };
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const slope = sxy / sxx;
  const residual = points.reduce((s, [x, y]) => s + (y - my - slope * (x - mx)) ** 2, 0);
  return { slope, standardError: Math.sqrt(residual / (n - 2) / sxx) };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  // Its own database: a drainer claims every waiting row of its task queue, so another benchmark's
  // worker on the same database would start (in its own dev server) rows of this run, and the reverse.
  const databaseUrl = process.env.SOAK_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/switchyard_soak';
  const run = Date.now().toString(36);
  const tenant = `bench${run}`;
  say(
    `soak: ${args.minutes} min at ${round(args.rate, 2)} webhooks/s (${args.rateFrom === 'rate' ? '--rate' : `half of ${args.rateFrom === 'capacity' ? '--capacity' : 'the default capacity'} ${args.capacity}/s`}), ` +
    `warm-up ${round(args.warmup, 2)} min, ${args.payloads} payloads`,
  );
  if (args.rateFrom === 'default capacity') {
    say(`the rate should be half this machine's drain capacity: run \`npm run bench:burst -- --phases=h\` and pass its "(h) drain … completions/s" as --capacity=N (or --rate=N/2)`);
  }

  await withInboxStack({ databaseUrl, tenant, signingSecret: SIGNING_SECRET, payloads: args.payloads, say }, (stack, pool) => soak(stack, pool, args, run, tenant));
}

async function soak(stack: Stack, pool: Pool, args: Args, run: string, tenant: string): Promise<void> {
  const pids = { worker: stack.worker.pid, api: stack.api.pid, temporal: stack.temporalPid };
  const mib = (pid: number): number => round(rssBytes(pid) / MIB, 1);
  say(`RSS at start: worker ${mib(pids.worker)} MiB, API ${mib(pids.api)} MiB, dev server ${mib(pids.temporal)} MiB`);
  let sequence = 0;
  const sender = new OpenLoopSender(new URL('/webhooks/stripe', stack.apiUrl), args.rate, () => stripeEventBody(`evt_s_${run}_${(sequence++).toString(36).padStart(7, '0')}`));

  const windows: WindowSample[] = [];
  /** Every window's ack latencies, for the per-minute percentiles. */
  const windowLatencies: number[][] = [];
  let inboxMax: Inbox = { backlog: 0, oldest: 0 };
  let completedBefore = 0;
  let since = (await readCompletions(pool, tenant, 0)).nowMs;
  const durationMs = args.minutes * 60_000;
  // The sender stops after the last window; the few answers after it count in the totals only.
  const startedAt = Date.now();
  sender.start();
  let nextWindow = startedAt + WINDOW_MS;
  const windowCount = Math.max(1, Math.round(durationMs / WINDOW_MS));
  while (windows.length < windowCount) {
    const inbox = await readInbox(pool);
    inboxMax = { backlog: Math.max(inboxMax.backlog, inbox.backlog), oldest: Math.max(inboxMax.oldest, inbox.oldest) };
    if (Date.now() >= nextWindow) {
      nextWindow += WINDOW_MS;
      const w = sender.takeWindow();
      const sorted = w.latencies.sort((a, b) => a - b);
      const completions = await readCompletions(pool, tenant, since);
      since = completions.nowMs;
      const sample: WindowSample = {
        t: round((Date.now() - startedAt) / 1000, 1),
        sent: w.sent,
        acked: w.acked,
        status4xx: w.status4xx,
        status5xx: w.status5xx,
        errors: w.errors,
        ackP50Ms: round(percentile(sorted, 50), 1),
        ackP99Ms: round(percentile(sorted, 99), 1),
        workerRssMiB: mib(pids.worker),
        apiRssMiB: mib(pids.api),
        temporalRssMiB: mib(pids.temporal),
        backlogMax: inboxMax.backlog,
        oldestMaxS: round(inboxMax.oldest, 2),
        completed: completions.completed - completedBefore,
        endToEndP99S: round(completions.e2eP99 ?? NaN, 2),
      };
      completedBefore = completions.completed;
      inboxMax = { backlog: 0, oldest: 0 };
      windows.push(sample);
      windowLatencies.push(sorted);
      if (windows.length % 6 === 0) {
        say(
          `${round(sample.t / 60, 1)} min: sent ${sender.total.sent}, acked ${sender.total.acked}, 5xx ${sender.total.status5xx}, errors ${sender.total.errors}; ` +
          `ack p99 ${sample.ackP99Ms} ms; RSS worker ${sample.workerRssMiB} / API ${sample.apiRssMiB} MiB; inbox ${sample.backlogMax} waiting, oldest ${sample.oldestMaxS} s; completed ${completions.completed}`,
        );
      }
    }
    await sleep(Math.max(0, INBOX_EVERY_MS - ((Date.now() - startedAt) % INBOX_EVERY_MS)));
  }
  await sender.stop();
  const sendSeconds = (Date.now() - startedAt) / 1000;
  const total = sender.total;
  say(`sent ${total.sent} in ${round(sendSeconds, 1)} s (${round(total.sent / sendSeconds, 2)}/s; the sender was at most ${round(sender.slipMs, 1)} ms behind schedule): ${total.acked} acked, 5xx ${total.status5xx}, 4xx ${total.status4xx}, errors ${total.errors}; draining…`);

  // Drain: every accepted webhook completed (or failed), at most --drain-timeout s, 60 s without progress ends it.
  const drainStarted = Date.now();
  let progress = { done: -1, at: Date.now() };
  let drained: 'done' | 'timeout' | 'stalled' = 'done';
  for (;;) {
    const c = await readCompletions(pool, tenant, since);
    if (c.completed + c.failed >= total.acked) break;
    if (Date.now() - drainStarted > args.drainTimeout * 1000) {
      drained = 'timeout';
      break;
    }
    if (c.completed + c.failed !== progress.done) progress = { done: c.completed + c.failed, at: Date.now() };
    if (Date.now() - progress.at > 60_000) {
      drained = 'stalled';
      break;
    }
    await sleep(500);
  }
  const drainSeconds = (Date.now() - drainStarted) / 1000;
  const ledger = (
    await pool.query<{ rows: number; events: number; completed: number; failed: number }>(
      `SELECT count(*)::int AS rows, count(DISTINCT event_id)::int AS events,
              count(*) FILTER (WHERE status = 'completed')::int AS completed,
              count(*) FILTER (WHERE status = 'failed')::int AS failed
         FROM webhook_events WHERE tenant = $1 AND provider = 'stripe' AND event_id LIKE $2`,
      [tenant, `evt_s_${run}_%`],
    )
  ).rows[0]!;
  const paid = (
    await pool.query<{ payments: number; distinct: number }>(
      `SELECT count(*)::int AS payments, count(DISTINCT payment_id)::int AS distinct
         FROM payments WHERE tenant = $1 AND provider = 'stripe' AND payment_id LIKE $2`,
      [tenant, `pi_s_${run}_%`],
    )
  ).rows[0]!;
  const exactlyOnce = {
    sent: total.sent,
    acked: total.acked,
    ledgerRows: ledger.rows,
    distinctEvents: ledger.events,
    completed: ledger.completed,
    failed: ledger.failed,
    payments: paid.payments,
    distinctPayments: paid.distinct,
    drain: drained,
    drainSeconds: round(drainSeconds, 1),
    met: [total.acked, ledger.rows, ledger.events, ledger.completed, paid.payments, paid.distinct].every((n) => n === total.sent),
  };
  say(`drain ${drained} in ${round(drainSeconds, 1)} s: ${ledger.completed} completed, ${ledger.failed} failed of ${ledger.rows} ledger rows (${ledger.events} distinct), ${paid.payments} payments (${paid.distinct} distinct)`);

  // Per minute.
  const minutes = new Map<number, { windows: WindowSample[]; latencies: number[] }>();
  // Window i covers seconds (10 i, 10 i + 10] of the run: six to a minute.
  const warmupWindows = Math.round((args.warmup * 60_000) / WINDOW_MS);
  windows.forEach((w, i) => {
    const m = Math.floor((i * WINDOW_MS) / 60_000);
    const entry = minutes.get(m) ?? { windows: [], latencies: [] };
    entry.windows.push(w);
    entry.latencies.push(...windowLatencies[i]!);
    minutes.set(m, entry);
  });
  const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  const sum = (ws: WindowSample[], key: keyof WindowSample): number => ws.reduce((s, w) => s + w[key], 0);
  const perMinute = [...minutes.entries()].map(([m, { windows: ws, latencies }]) => {
    const sorted = latencies.sort((a, b) => a - b);
    return {
      minute: m + 1,
      warmup: m * 60_000 < warmupWindows * WINDOW_MS,
      sent: sum(ws, 'sent'),
      acked: sum(ws, 'acked'),
      status5xx: sum(ws, 'status5xx'),
      errors: sum(ws, 'errors') + sum(ws, 'status4xx'),
      ackP50Ms: round(percentile(sorted, 50), 1),
      ackP99Ms: round(percentile(sorted, 99), 1),
      workerRssMiB: round(mean(ws.map((w) => w.workerRssMiB)), 1),
      apiRssMiB: round(mean(ws.map((w) => w.apiRssMiB)), 1),
      temporalRssMiB: round(mean(ws.map((w) => w.temporalRssMiB)), 1),
      backlogMax: Math.max(...ws.map((w) => w.backlogMax)),
      oldestMaxS: Math.max(...ws.map((w) => w.oldestMaxS)),
      completed: sum(ws, 'completed'),
      endToEndP99S: Math.max(...ws.map((w) => (Number.isFinite(w.endToEndP99S) ? w.endToEndP99S : 0))),
    };
  });

  // Slopes over the windows after the warm-up, MiB per hour.
  const steady = windows.slice(warmupWindows);
  const fit = (key: 'workerRssMiB' | 'apiRssMiB' | 'temporalRssMiB'): { slopeMiBPerHour: number; plusMinus2Se: number; samples: number; overMinutes: number } => {
    const f = linearFit(steady.map((w) => [w.t / 3600, w[key]]));
    const span = steady.length > 1 ? (steady[steady.length - 1]!.t - steady[0]!.t) / 60 : 0;
    return { slopeMiBPerHour: round(f.slope, 2), plusMinus2Se: round(2 * f.standardError, 2), samples: steady.length, overMinutes: round(span, 1) };
  };
  const slopes = { worker: fit('workerRssMiB'), api: fit('apiRssMiB'), temporalServer: fit('temporalRssMiB') };
  const steadyMinutes = perMinute.filter((m) => !m.warmup && Number.isFinite(m.ackP99Ms));
  const steadyP99s = steadyMinutes.map((m) => m.ackP99Ms);
  const windowP99s = steady.map((w) => w.ackP99Ms).filter(Number.isFinite);
  const maxOverMin = (values: number[]): number => (values.length === 0 ? NaN : round(Math.max(...values) / Math.min(...values), 2));
  const p99 = {
    perMinuteMaxOverMin: maxOverMin(steadyP99s),
    perMinuteMinMs: steadyP99s.length === 0 ? NaN : Math.min(...steadyP99s),
    perMinuteMaxMs: steadyP99s.length === 0 ? NaN : Math.max(...steadyP99s),
    per10sMaxOverMin: maxOverMin(windowP99s),
    overallMs: round(percentile([...total.latencies].sort((a, b) => a - b), 99), 1),
  };
  const maxLagS = round(Math.max(0, ...windows.map((w) => w.oldestMaxS)), 2);
  const maxBacklog = Math.max(0, ...windows.map((w) => w.backlogMax));
  // Too few minutes of samples: an hour's slope from them is the garbage collector's noise, not judged (null).
  const flat = (s: { slopeMiBPerHour: number; overMinutes: number }): boolean | null =>
    s.overMinutes < THRESHOLDS.rssMinSampleMinutes ? null : Math.abs(s.slopeMiBPerHour) <= THRESHOLDS.rssSlopeMiBPerHour;
  const verdicts = {
    workerRssFlat: { target: `|slope| ≤ ${THRESHOLDS.rssSlopeMiBPerHour} MiB/h over ≥ ${THRESHOLDS.rssMinSampleMinutes} min`, value: slopes.worker.slopeMiBPerHour, met: flat(slopes.worker) },
    apiRssFlat: { target: `|slope| ≤ ${THRESHOLDS.rssSlopeMiBPerHour} MiB/h over ≥ ${THRESHOLDS.rssMinSampleMinutes} min`, value: slopes.api.slopeMiBPerHour, met: flat(slopes.api) },
    p99Stable: { target: `per-minute ack p99 max/min ≤ ${THRESHOLDS.p99MaxOverMin}`, value: p99.perMinuteMaxOverMin, met: p99.perMinuteMaxOverMin <= THRESHOLDS.p99MaxOverMin },
    inboxLagBounded: { target: `oldest unstarted row ≤ ${THRESHOLDS.inboxLagSeconds} s`, value: maxLagS, met: maxLagS <= THRESHOLDS.inboxLagSeconds },
    no5xx: { target: '0 5xx', value: total.status5xx, met: total.status5xx === 0 },
    exactlyOnce: { target: 'sent = acked = ledger rows completed = payments', value: `${total.sent} / ${total.acked} / ${ledger.completed} / ${paid.payments}`, met: exactlyOnce.met },
  };

  const verdict = (met: boolean | null): string => (met === null ? `not judged: under ${THRESHOLDS.rssMinSampleMinutes} min of samples` : met ? 'met' : 'MISSED');
  const short = slopes.worker.overMinutes < THRESHOLDS.rssMinSampleMinutes;
  const lines = [
    '',
    `| min | sent | acked | 5xx | errors | ack p50 / p99 ms | worker RSS MiB | API RSS MiB | dev server RSS MiB | inbox max waiting | oldest max s | completed | received→completed p99 s |`,
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...perMinute.map(
      (m) =>
        `| ${m.minute}${m.warmup ? ' (warm-up)' : ''} | ${m.sent} | ${m.acked} | ${m.status5xx} | ${m.errors} | ${m.ackP50Ms} / ${m.ackP99Ms} | ${m.workerRssMiB} | ${m.apiRssMiB} | ${m.temporalRssMiB} | ${m.backlogMax} | ${m.oldestMaxS} | ${m.completed} | ${m.endToEndP99S} |`,
    ),
    '',
    `RSS slope after the ${round(args.warmup, 2)}-min warm-up (least squares over ${slopes.worker.samples} 10-s samples, ${slopes.worker.overMinutes} min${short ? `; under ${THRESHOLDS.rssMinSampleMinutes} min the slopes are indicative only` : ''}):`,
    `  worker ${slopes.worker.slopeMiBPerHour} ± ${slopes.worker.plusMinus2Se} MiB/h (flat: ${verdict(verdicts.workerRssFlat.met)}, target ${verdicts.workerRssFlat.target})`,
    `  API    ${slopes.api.slopeMiBPerHour} ± ${slopes.api.plusMinus2Se} MiB/h (flat: ${verdict(verdicts.apiRssFlat.met)}, target ${verdicts.apiRssFlat.target})`,
    `  dev server ${slopes.temporalServer.slopeMiBPerHour} ± ${slopes.temporalServer.plusMinus2Se} MiB/h (not judged: its SQLite history grows with every workflow)`,
    `ack p99 stability: per-minute p99 ${p99.perMinuteMinMs}–${p99.perMinuteMaxMs} ms, max/min ${p99.perMinuteMaxOverMin} (stable: ${verdict(verdicts.p99Stable.met)}, target ≤ ${THRESHOLDS.p99MaxOverMin}); per 10-s window max/min ${p99.per10sMaxOverMin}; whole run p99 ${p99.overallMs} ms`,
    `inbox lag: oldest unstarted row at most ${maxLagS} s, at most ${maxBacklog} rows waiting (bounded: ${verdict(verdicts.inboxLagBounded.met)}, target ≤ ${THRESHOLDS.inboxLagSeconds} s)`,
    `5xx: ${total.status5xx} (${verdict(verdicts.no5xx.met)}); 4xx ${total.status4xx}, requests without an answer ${total.errors}${total.errors > 0 ? ` (${JSON.stringify(sender.errorReasons)})` : ''}`,
    `every sent webhook completed exactly once: ${exactlyOnce.met ? 'yes' : 'NO'} (${total.sent} sent, ${total.acked} acked, ${ledger.rows} ledger rows, ${ledger.events} distinct, ${ledger.completed} completed, ${ledger.failed} failed, ${paid.payments} payments; drain ${drained} ${round(drainSeconds, 1)} s after the last request)`,
  ];
  console.log(lines.join('\n'));

  const resultsDir = path.join(projectRoot, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const out = path.join(resultsDir, 'soak.json');
  const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: round(os.totalmem() / 2 ** 30), loadAverage: os.loadavg().map((l) => round(l, 2)), node: process.version, platform: `${os.type()} ${os.release()}`, temporalCli: readVersion() };
  const send = { sent: total.sent, acked: total.acked, status4xx: total.status4xx, status5xx: total.status5xx, errors: total.errors, seconds: round(sendSeconds, 1), perSecond: round(total.sent / sendSeconds, 2), maxSlipMs: round(sender.slipMs, 1), errorReasons: sender.errorReasons };
  writeFileSync(out, `${JSON.stringify({ at: new Date().toISOString(), machine, args, thresholds: THRESHOLDS, send, slopes, p99, inbox: { maxOldestSeconds: maxLagS, maxWaiting: maxBacklog }, exactlyOnce, verdicts, perMinute, windows }, null, 2)}\n`);
  say(`wrote ${path.relative(projectRoot, out)}`);
}

main().catch((err: unknown) => {
  console.error(`[soak] failed: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
