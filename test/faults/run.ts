/**
 * The fault suite: thousands of signed Stripe webhooks, with duplicates and bad
 * signatures, sent like a provider sends them while the worker is SIGKILLed, the Temporal dev
 * server is SIGKILLed and restarted on its SQLite file, and PostgreSQL is restarted. Afterwards
 * every accepted event must have exactly one completed workflow, ledger row and payment, and
 * every bad one no trace. Everything runs on the suite's own PostgreSQL cluster and dev server,
 * so the shared ones are never touched. `--mode=burst` sends unpaced, 64 in flight, in one burst per
 * fault, and also SIGKILLs the API mid-burst.
 *   scripts/test-faults.sh [--events=10000 --duplicates=0.2 --bad=0.01 ...]   (docs/RELIABILITY.md)
 *   scripts/test-faults.sh --mode=burst --events=1000
 * Exit code 0 only when no rule was violated.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Pool } from 'pg';
import { payloadDataConverterFromKeys } from '../../client/temporal';
import { migrate } from '../../db/migrate';
import { newKeyringEntry } from '../../lib/security/keyring';
import { createPool } from '../../lib/data/db';
import { findFreePort } from '../../lib/temporal/dev-server';
import { createLogger } from '../../lib/logger';
import { projectRoot, toolsBinDir } from '../../lib/config/paths';
import { apiComponent, assertBuilt, httpReady, temporalComponent, workerComponent, type Component } from './components';
import { parseOptions, type FaultKind } from './options';
import { planDeliveries, seededRandom } from './plan';
import { createPostgresCluster, stopQuietly, type PostgresCluster } from './postgres-cluster';
import { writeWorkflowBundle } from '../../workers/worker';
import { formatReport, writeReport, type FaultSuiteReport, type UnplannedExit } from './report';
import { ProviderSender } from './sender';
import { burstSegments, FaultTimeline } from './timeline';
import { verifyRun, waitForDrain } from './verify';

const TENANT = 'faults';
const PROGRESS_EVERY_MS = 5000;
const seconds = (ms: number): number => Number((ms / 1000).toFixed(1));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function machine(): Record<string, string | number> {
  const version = (file: string): string => (existsSync(file) ? readFileSync(file, 'utf8').trim() : 'unknown');
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    temporalCli: version(path.join(toolsBinDir, 'temporal.version')),
    // Other work on the machine shares the CPUs: the load average says how much.
    loadAverage1mAtEnd: Number(os.loadavg()[0]!.toFixed(1)),
  };
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2), process.env);
  const logger = createLogger('faults', process.env.LOG_LEVEL ?? 'info');
  assertBuilt();
  const began = Date.now();
  const loadAtStart = Number(os.loadavg()[0]!.toFixed(1));
  const artifacts = path.resolve(projectRoot, options.artifacts);
  // The two modes keep their own report and logs, so CI's two runs leave both.
  const name = options.mode === 'burst' ? 'faults-burst' : 'faults';
  const logs = path.join(artifacts, `${name}-logs`);
  rmSync(logs, { recursive: true, force: true });
  mkdirSync(logs, { recursive: true });
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'switchyard-faults-'));
  chmodSync(tmp, 0o711); // the postgres OS user must reach its cluster directory inside
  const secret = `whsec_faults_${randomBytes(12).toString('hex')}`;
  const runId = randomBytes(4).toString('hex');
  const unplannedExits: UnplannedExit[] = [];

  let cluster: PostgresCluster | undefined;
  const components: Partial<Record<'temporal' | 'worker' | 'api', Component>> = {};
  let pool: Pool | undefined;
  let connection: Connection | undefined;
  let stopping = false;

  const cleanup = async (): Promise<void> => {
    stopping = true;
    await connection?.close().catch(() => undefined);
    await pool?.end().catch(() => undefined);
    await components.api?.kill('SIGTERM').catch(() => undefined);
    await components.worker?.kill('SIGKILL').catch(() => undefined);
    await components.temporal?.kill('SIGTERM').catch(() => undefined);
    await stopQuietly(cluster);
    if (cluster && existsSync(cluster.logFile)) copyFileSync(cluster.logFile, path.join(logs, 'postgres.log'));
    if (options.keep) logger.info({ dir: tmp }, 'kept the temporary directory');
    else rmSync(tmp, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    logger.warn({ signal }, 'interrupted: cleaning up');
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  // A supervisor's job: a component that dies on its own is recorded and started again.
  const onUnplannedExit = (name: string, code: number | null, signal: NodeJS.Signals | null): void => {
    if (stopping) return;
    unplannedExits.push({ component: name, code, signal, atS: seconds(Date.now() - began) });
    logger.error({ component: name, code, signal }, 'component exited on its own; restarting it');
    const component = components[name as keyof typeof components];
    void sleep(1000)
      .then(() => (stopping ? undefined : component?.start()))
      .catch((err: unknown) => logger.error({ component: name, err: String(err) }, 'restart after an unplanned exit failed'));
  };

  try {
    const [pgPort, temporalPort, apiPort] = [await findFreePort(), await findFreePort(), await findFreePort()];
    cluster = await createPostgresCluster(path.join(tmp, 'pg'), pgPort);
    await migrate(cluster.url);
    logger.info({ url: cluster.url, dir: cluster.dataDir }, 'own PostgreSQL cluster ready');

    const temporal = temporalComponent(temporalPort, path.join(tmp, 'temporal', 'temporal.db'), path.join(logs, 'temporal.log'), onUnplannedExit);
    components.temporal = temporal;
    await temporal.start();
    logger.info({ address: temporal.address }, 'own Temporal dev server ready');

    // Payload encryption on, as in production: the faults hit a worker and API that seal every payload.
    const payloadKeys = newKeyringEntry(`faults-${runId}`);
    // Bundled once: every worker (re)start loads it instead of running webpack over workflows/ again.
    const workflowBundle = path.join(tmp, 'workflow-bundle.js');
    await writeWorkflowBundle(workflowBundle);
    const shared = {
      DATABASE_URL: cluster.url,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: 'default',
      DEFAULT_TENANT: TENANT,
      LOG_LEVEL: 'warn',
      PAYLOAD_ENCRYPTION_KEYS: payloadKeys,
      WORKFLOW_BUNDLE_PATH: workflowBundle,
    };
    components.worker = workerComponent(shared, path.join(logs, 'worker.log'), onUnplannedExit);
    await components.worker.start();
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    // The per-tenant webhook rate limit (1 200 a minute) is not under test: a burst to one tenant passes it.
    const apiEnv = { ...shared, PORT: String(apiPort), STRIPE_WEBHOOK_SECRETS: secret, WEBHOOK_RATE_LIMIT_PER_MINUTE: '0' };
    components.api = apiComponent(apiEnv, path.join(logs, 'api.log'), onUnplannedExit);
    await components.api.start();
    await httpReady(`${apiUrl}/readyz`);
    const setupMs = Date.now() - began;
    logger.info({ api: apiUrl, worker: components.worker.pid, setupS: seconds(setupMs) }, 'worker and API ready');

    const random = seededRandom(options.seed ^ 0x5eed);
    const plan = planDeliveries({ ...options, laterGap: options.concurrency * 4, runId });
    const segments = options.mode === 'burst' ? burstSegments(options.faults, plan.deliveries.length) : [plan.deliveries.length];
    logger.info({ mode: options.mode, ...plan.counts, faults: options.faults, concurrency: options.concurrency, rate: options.rate, minSendSeconds: options.minSendSeconds, segments }, 'sending');

    const floorRate = options.minSendSeconds > 0 ? plan.deliveries.length / options.minSendSeconds : Number.POSITIVE_INFINITY;
    const rate = options.rate > 0 ? Math.min(options.rate, floorRate) : Number.isFinite(floorRate) ? floorRate : 0;
    const sender = new ProviderSender({ ...options, rate, url: apiUrl, secret, random, logger });
    const sendBegan = Date.now();
    const actions = {
      down: async (kind: FaultKind): Promise<void> => {
        if (kind === 'postgres') await cluster!.stop('fast');
        else await components[kind]!.kill('SIGKILL');
      },
      // The API's start resolves once it answers /healthz on its port again.
      up: async (kind: FaultKind): Promise<void> => {
        if (kind === 'postgres') await cluster!.start();
        else await components[kind]!.start();
      },
    };
    const timeline = new FaultTimeline(options.faults, plan.deliveries.length, actions, logger, sendBegan, () => sender.inFlight);
    const acceptedCount = (): number => [...sender.outcomes.values()].filter((o) => o.accepted).length;
    const progress = setInterval(() => {
      const s = sender.stats;
      logger.info(
        { t: seconds(Date.now() - sendBegan), dispatched: s.dispatched, finished: s.finished, accepted: acceptedCount(), answers: s.answers, retries: s.retries },
        'send progress',
      );
    }, PROGRESS_EVERY_MS);
    try {
      // Paced: one send. Burst: one burst per fault, each started once the previous fault recovered.
      let from = 0;
      for (const end of segments) {
        await sender.send(plan.deliveries.slice(from, end), (n) => timeline.onProgress(n));
        await timeline.idle();
        from = end;
      }
      await timeline.finish();
    } finally {
      clearInterval(progress);
      await sender.close();
    }
    const sendMs = Date.now() - sendBegan;
    const accepted = acceptedCount();
    logger.info({ sendS: seconds(sendMs), accepted, answers: sender.stats.answers }, 'send finished; waiting for the inbox to drain and the workflows to close');

    connection = await Connection.connect({ address: temporal.address });
    const client = new Client({ connection, namespace: 'default', dataConverter: payloadDataConverterFromKeys(payloadKeys) });
    pool = createPool(cluster.url);
    const drain = await waitForDrain({ client, pool, accepted, boundMs: options.settleMs, logger, everyMs: PROGRESS_EVERY_MS });
    const settled = drain.drained;
    const endToEndMs = Date.now() - sendBegan;
    const settleMs = drain.waitedMs;
    logger.info({ settled, endToEndS: seconds(endToEndMs), ...drain.last }, settled ? 'inbox drained, every accepted workflow closed' : 'bound passed with the inbox not drained or workflows still open');

    const verifyBegan = Date.now();
    const verification = await verifyRun({ client, pool, tenant: TENANT, events: plan.events, outcomes: sender.outcomes });
    const faultErrors = timeline.records.filter((f) => f.error !== null);
    if (!settled) verification.violations.push({ rule: 'inbox not drained or workflows still open when the bound passed', count: 1, examples: [JSON.stringify(drain.last ?? null)] });
    // The supervisor restarts a component that died on its own, but only the planned faults may kill one.
    if (unplannedExits.length > 0) {
      verification.violations.push({ rule: 'a component exited on its own (see its log)', count: unplannedExits.length, examples: unplannedExits.map((e) => `${e.component}@${e.atS}s code=${e.code} signal=${e.signal}`) });
    }
    if (faultErrors.length > 0) {
      verification.violations.push({ rule: 'a fault could not be injected or recovered', count: faultErrors.length, examples: faultErrors.map((f) => `${f.kind}: ${f.error}`) });
    }
    const report: FaultSuiteReport = {
      ok: verification.violations.length === 0,
      startedAt: new Date(began).toISOString(),
      options,
      machine: { ...machine(), loadAverage1mAtStart: loadAtStart },
      plan: plan.counts,
      sender: sender.stats,
      faults: timeline.records,
      unplannedExits,
      rates: {
        targetSendPerS: Number(rate.toFixed(1)),
        achievedSendPerS: Number((plan.deliveries.length / (sendMs / 1000)).toFixed(1)),
        completedPerS: Number((verification.acceptedEvents / (endToEndMs / 1000)).toFixed(1)),
      },
      timings: {
        setupS: seconds(setupMs),
        sendS: seconds(sendMs),
        endToEndS: seconds(endToEndMs),
        settleAfterSendS: seconds(settleMs),
        verifyS: seconds(Date.now() - verifyBegan),
        totalS: seconds(Date.now() - began),
        settled,
      },
      drain: drain.last ?? null,
      verification,
    };
    report.machine.postgres = await pool.query<{ v: string }>("SELECT current_setting('server_version') AS v").then((r) => r.rows[0]!.v);
    console.log(formatReport(report));
    const file = writeReport(artifacts, report, `${name}.json`);
    logger.info({ file, logs, ok: report.ok }, 'report written');
    return report.ok ? 0 : 1;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    createLogger('faults').fatal({ err }, 'fault suite failed');
    process.exit(2);
  },
);
