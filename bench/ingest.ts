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
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type autocannon from 'autocannon';
import { Client, Connection } from '@temporalio/client';
import type { Pool } from 'pg';
import Stripe from 'stripe';
import { createPool } from '../lib/data/db';
import { newKeyringEntry, parseKeyring, type Keyring } from '../lib/security/keyring';
import { payloadDataConverter } from '../lib/security/payload-codec';
import { projectRoot } from '../lib/config/paths';
import { eventTypeKey, providerKey, tenantKey } from '../contracts/search-attributes';
import { webhookWorkflowId, type WebhookEvent } from '../contracts/webhook';
import { cpuProfilesIn, percentile, rssBytes, scrapeGauge, startStack, summariseCpuProfile, type Stack } from './stack';
import { CpuAccount, cpuLine, httpLoad, readVersion, round, settledRss, stripeEventBody, summarise, type LoadResult, type Samples } from './common';

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
          // Exactly what lib/temporal/start-work.ts asks for: id, conflict and reuse policies, search attributes.
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

main().catch((err: unknown) => {
  console.error(`[bench] failed: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
