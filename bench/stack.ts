/**
 * The real stack for benchmarks, run the way `npm start` runs it: an own Temporal dev server on a
 * SQLite file with the WAL pragmas (lib/temporal/dev-server.ts), an own PostgreSQL database, and the worker
 * and the API as separate node processes from dist/. Separate processes keep the load generator
 * off the API's event loop and let a benchmark read each process's RSS and CPU time, and profile
 * it with --cpu-prof. Everything started here is stopped again, also when the benchmark fails.
 *
 * Run as a script it is one of the baseline servers: `node dist/bench/stack.js raw-http <port>`
 * answers every request 202 after reading its body, and does nothing else;
 * `node dist/bench/stack.js express-stripe <port>` is Express with the raw body and the Stripe
 * signature check (STRIPE_WEBHOOK_SECRETS), answering 202 when it holds and 400 when not.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import express from 'express';
import os from 'node:os';
import path from 'node:path';
import { migrate } from '../db/migrate';
import { findFreePort, startDevServer, type DevServer } from '../lib/temporal/dev-server';
import { projectRoot } from '../lib/config/paths';
import { prepareNamespace } from '../scripts/prepare';
import { verifyStripeSignature } from '../providers/stripe/webhook';

export interface NodeProcess {
  name: string;
  pid: number;
  child: ChildProcess;
  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves once the process has exited. */
  stop(timeoutMs?: number): Promise<void>;
}

export interface StackOptions {
  databaseUrl: string;
  /** Extra environment for the worker and the API (secrets, tenant, log level…). */
  env: Record<string, string>;
  /** Node flags for the worker, the API and the raw server, e.g. ['--cpu-prof', '--cpu-prof-dir=…']. */
  nodeFlags?: string[];
  log?: (line: string) => void;
  /**
   * An already running Temporal server to use instead of an own dev server, e.g. the one
   * `npm run temporal:postgres` starts: its frontend address and its process id (for the CPU
   * accounting). It is left running when the stack stops.
   */
  temporal?: { address: string; pid: number };
  /** Worker processes to run (default 1), each with its own metrics ports and inbox drainer. */
  workers?: number;
}

export interface Stack {
  temporalAddress: string;
  /** The Temporal server's process (its RSS and CPU time). */
  temporalPid: number;
  apiUrl: string;
  api: NodeProcess;
  /** The first worker process. */
  worker: NodeProcess;
  /** Every worker process, the first one included. */
  workers: NodeProcess[];
  /** The first worker's Temporal SDK Prometheus endpoint (sticky cache size and friends). */
  workerSdkMetricsUrl: string;
  /** Folder of the dev server's SQLite file and the processes' logs. */
  workDir: string;
  /** Starts the raw node:http baseline server in its own process. */
  startRawServer(): Promise<{ url: string; process: NodeProcess }>;
  /** Starts the Express + Stripe signature check baseline server in its own process. */
  startExpressServer(): Promise<{ url: string; process: NodeProcess }>;
  /**
   * Runs `node <script> ...args` with the stack's environment (Temporal address, database, the
   * caller's `env`) and node flags; it is stopped with the stack. Its output goes to `<name>.log`.
   */
  spawn(name: string, script: string, args: string[]): NodeProcess;
  /** Stops the API, the workers, then the dev server (not a server given in `temporal`). */
  stop(): Promise<void>;
}

const started = new Set<ChildProcess>();
let exitHookInstalled = false;

/** A failed or interrupted benchmark must not leave a dev server or a node process behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
}

function track(name: string, child: ChildProcess): NodeProcess {
  started.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => started.delete(child));
  return {
    name,
    pid: child.pid ?? -1,
    child,
    async stop(timeoutMs = 20_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

function spawnNode(name: string, args: string[], env: NodeJS.ProcessEnv, logFile: string, nodeFlags: string[]): NodeProcess {
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...nodeFlags, ...args], { stdio: ['ignore', out, out], env, cwd: projectRoot });
  closeSync(out);
  return track(name, child);
}

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>, exited?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited && (exited.exitCode !== null || exited.signalCode !== null)) throw new Error(`${what}: the process exited (${exited.exitCode ?? exited.signalCode})`);
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms`);
}

export async function startStack(options: StackOptions): Promise<Stack> {
  installExitHook();
  const log = options.log ?? (() => undefined);
  const nodeFlags = options.nodeFlags ?? [];
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'switchyard-bench-'));
  await migrate(options.databaseUrl);
  let server: DevServer | undefined;
  let temporal = options.temporal;
  if (temporal === undefined) {
    server = await startDevServer({ port: await findFreePort(), dbFile: path.join(workDir, 'temporal.db'), logFile: path.join(workDir, 'temporal-server.log') });
    if (server.process.pid !== undefined) started.add(server.process);
    temporal = { address: server.address, pid: server.process.pid ?? -1 };
    log(`temporal dev server on ${server.address} (SQLite WAL in ${workDir})`);
  } else log(`temporal server at ${temporal.address} (pid ${temporal.pid}), not started here`);
  const temporalAddress = temporal.address;
  const processes: NodeProcess[] = [];
  const stopAll = async (): Promise<void> => {
    for (const p of processes.splice(0).reverse()) await p.stop();
    if (!server) return;
    await server.stop();
    // The SQLite files are large and of no use afterwards; the logs stay for a look after a failure.
    for (const suffix of ['', '-wal', '-shm']) rmSync(path.join(workDir, `temporal.db${suffix}`), { force: true });
  };
  try {
    await prepareNamespace(temporalAddress, 'default');
    const apiPort = await findFreePort();
    // ALERT_* channels of the caller's shell must not be notified by a benchmark's alerts; whether
    // payloads are encrypted is the benchmark's choice (options.env), not the shell's.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('ALERT_') && !key.startsWith('PAYLOAD_ENCRYPTION_KEYS')));
    const env: NodeJS.ProcessEnv = {
      ...inherited,
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_NAMESPACE: 'default',
      DATABASE_URL: options.databaseUrl,
      PORT: String(apiPort),
      API_METRICS_PORT: '0',
      SCHEDULES_AT_WORKER_START: 'false', // no probes calling providers in the middle of a measurement
      // The per-tenant webhook request limit (1 200 a minute by default) would answer the load 429.
      WEBHOOK_RATE_LIMIT_PER_MINUTE: '0',
      ...options.env,
    };
    const workers: NodeProcess[] = [];
    const sdkMetricsUrls: string[] = [];
    for (let i = 1; i <= (options.workers ?? 1); i++) {
      const [workerMetricsPort, sdkMetricsPort] = [await findFreePort(), await findFreePort()];
      const name = i === 1 ? 'worker' : `worker ${i}`;
      const workerEnv = { ...env, WORKER_METRICS_PORT: String(workerMetricsPort), TEMPORAL_SDK_METRICS_PORT: String(sdkMetricsPort) };
      const worker = spawnNode(name, [path.join(projectRoot, 'dist', 'workers', 'main.js')], workerEnv, path.join(workDir, `${name.replace(' ', '-')}.log`), nodeFlags);
      processes.push(worker);
      workers.push(worker);
      sdkMetricsUrls.push(`http://127.0.0.1:${sdkMetricsPort}/metrics`);
    }
    const api = spawnNode('api', [path.join(projectRoot, 'dist', 'api', 'server.js')], env, path.join(workDir, 'api.log'), nodeFlags);
    processes.push(api);
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    await waitFor('API /readyz 200', 60_000, async () => (await fetch(`${apiUrl}/readyz`)).status === 200, api.child);
    // A worker polls once its workflow bundle is built; its SDK metrics answer from then on.
    for (const [i, worker] of workers.entries()) await waitFor(`${worker.name} polling`, 120_000, async () => (await fetch(sdkMetricsUrls[i]!)).ok, worker.child);
    log(`${workers.map((w) => `${w.name} pid ${w.pid}`).join(', ')}, API pid ${api.pid} at ${apiUrl}`);
    const spawnInStack = (name: string, script: string, args: string[]): NodeProcess => {
      const child = spawnNode(name, [script, ...args], env, path.join(workDir, `${name}.log`), nodeFlags);
      processes.push(child);
      return child;
    };
    const startBaseline = async (mode: 'raw-http' | 'express-stripe'): Promise<{ url: string; process: NodeProcess }> => {
      const baselinePort = await findFreePort();
      const baseline = spawnInStack(mode, __filename, [mode, String(baselinePort)]);
      const url = `http://127.0.0.1:${baselinePort}`;
      // Both answer an unsigned body: raw-http 202, express-stripe 400 (no signature).
      await waitFor(`${mode} server`, 10_000, async () => [202, 400].includes((await fetch(url, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status), baseline.child);
      return { url, process: baseline };
    };
    return {
      temporalAddress,
      temporalPid: temporal.pid,
      apiUrl,
      api,
      worker: workers[0]!,
      workers,
      workerSdkMetricsUrl: sdkMetricsUrls[0]!,
      workDir,
      startRawServer: () => startBaseline('raw-http'),
      startExpressServer: () => startBaseline('express-stripe'),
      spawn: spawnInStack,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Resident set size of a process, from /proc (Linux). */
export function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : NaN;
}

/** User + system CPU seconds a process has used so far, its threads included, from /proc (Linux). */
export function cpuSeconds(pid: number): number {
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th overall.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticksPerSecond = 100; // USER_HZ, 100 on every Linux this runs on
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** The value of one Prometheus gauge (summed over its label sets), or NaN. */
export async function scrapeGauge(url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text();
  let total = NaN;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== ' ' && line[name.length] !== '{')) continue;
    total = (Number.isNaN(total) ? 0 : total) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export interface ProfileHotspot {
  function: string;
  where: string;
  selfMs: number;
  share: number;
}

/** Where the samples of a .cpuprofile fell: the top self-time functions, and self time per package. */
export function summariseCpuProfile(file: string, top = 12): { totalMs: number; hotspots: ProfileHotspot[]; byPackage: Record<string, number> } {
  interface ProfileNode {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<string, number>();
  const packageUs = new Map<string, number>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const delta = profile.timeDeltas[i] ?? 0;
    if (!node) return;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)' || functionName === '(program)') return;
    totalUs += delta;
    const short = url.replace(/^file:\/\//, '').replace(`${projectRoot}/`, '');
    const key = `${functionName || '(anonymous)'}\t${short ? `${short}:${lineNumber + 1}` : ''}`;
    selfUs.set(key, (selfUs.get(key) ?? 0) + delta);
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(short)?.[1] ?? (short.startsWith('node:') || !short ? 'node internals / native' : short.split('/')[0]!);
    packageUs.set(pkg, (packageUs.get(pkg) ?? 0) + delta);
  });
  const hotspots = [...selfUs.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([key, us]) => {
      const [fn, where] = key.split('\t') as [string, string];
      return { function: fn, where, selfMs: Math.round(us / 1000), share: us / totalUs };
    });
  const byPackage = Object.fromEntries(
    [...packageUs.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([pkg, us]) => [pkg, Math.round((us / totalUs) * 1000) / 1000]),
  );
  return { totalMs: Math.round(totalUs / 1000), hotspots, byPackage };
}

/** The .cpuprofile files a folder holds, newest last. */
export function cpuProfilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => path.join(dir, f))
    .sort();
}

/** The (c) baseline: node:http answering 202 after reading the body, no routing, no work. */
function serveRaw(port: number): void {
  const server = http.createServer((req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => {
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end('{"accepted":true}');
    });
  });
  server.listen(port, '127.0.0.1');
  process.once('SIGTERM', () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}

/**
 * The (f) baseline: Express reading the raw body and checking its Stripe signature with the API's
 * own verifier (the official library, every configured secret, 300 s tolerance), then 202. No
 * routing table, no tenant, no logging, no durable step: what the API's accept path costs at least.
 */
function serveExpressStripe(port: number): void {
  const secrets = (process.env.STRIPE_WEBHOOK_SECRETS ?? '').split(',').filter(Boolean);
  const app = express();
  app.use(express.raw({ type: 'application/json', limit: '512kb' }));
  app.use((req, res) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const verified = verifyStripeSignature(body, req.header('stripe-signature'), secrets, 300);
    if (verified.ok) res.status(202).json({ accepted: true });
    else res.status(400).json({ error: verified.reason });
  });
  const server = app.listen(port, '127.0.0.1');
  process.once('SIGTERM', () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}

if (require.main === module && process.argv[2] === 'raw-http') serveRaw(Number(process.argv[3]));
if (require.main === module && process.argv[2] === 'express-stripe') serveExpressStripe(Number(process.argv[3]));
