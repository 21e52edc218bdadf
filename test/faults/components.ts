/**
 * The processes under test, each its own OS process so a fault is a real one: the compiled worker
 * and API (dist/), and a Temporal dev server on a SQLite file that survives a SIGKILL. Each can be
 * killed and started again on the same port and state; output goes to a log file per component.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { startDevServer, type DevServer } from '../../lib/temporal/dev-server';
import { projectRoot } from '../../lib/config/paths';
import { prepareNamespace } from '../../scripts/prepare';
import { assertWorkerBuilt, exited, workerEntry } from '../support/worker-process';

export const apiEntry = path.join(projectRoot, 'dist', 'api', 'server.js');

export function assertBuilt(): void {
  assertWorkerBuilt();
  if (!existsSync(apiEntry)) throw new Error(`${apiEntry} is missing: run scripts/test-faults.sh (it builds dist/)`);
}

/** A restartable child process; `onUnplannedExit` hears of exits nobody asked for. */
export interface Component {
  readonly name: string;
  readonly pid: number | undefined;
  start(): Promise<void>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

interface NodeComponentSpec {
  name: string;
  entry: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
  /** Resolves once the process is ready (e.g. a log line or an HTTP answer). */
  ready(child: ChildProcess, output: () => string): Promise<void>;
  onUnplannedExit(name: string, code: number | null, signal: NodeJS.Signals | null): void;
}

/** A compiled Node entry point run as its own process, output appended to `logFile`. */
export function nodeComponent(spec: NodeComponentSpec): Component {
  let child: ChildProcess | undefined;
  let killing = false;
  return {
    name: spec.name,
    get pid() {
      return child?.pid;
    },
    async start() {
      const out = openSync(spec.logFile, 'a');
      const started = spawn(process.execPath, [spec.entry], { env: { ...process.env, ...spec.env }, stdio: ['ignore', 'pipe', out] });
      closeSync(out);
      child = started;
      killing = false;
      // Only the first lines are kept in memory (for the readiness check); the rest go to the file.
      let head = '';
      const log = openSync(spec.logFile, 'a');
      started.stdout!.on('data', (chunk: Buffer) => {
        if (head.length < 64 * 1024) head += chunk.toString();
        try {
          writeSync(log, chunk);
        } catch {
          // log file gone (clean-up): drop the line
        }
      });
      started.stdout!.once('close', () => closeSync(log));
      started.once('exit', (code, signal) => {
        if (!killing) spec.onUnplannedExit(spec.name, code, signal);
      });
      const died = exited(started).then(() => {
        throw new Error(`${spec.name} exited (code ${started.exitCode}, signal ${started.signalCode}) before it was ready; see ${spec.logFile}`);
      });
      await Promise.race([spec.ready(started, () => head), died]);
    },
    async kill(signal) {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      killing = true;
      child.kill(signal);
      await exited(child);
    },
  };
}

/** Resolves when `output()` contains `text`, polling the head of the log. */
export async function outputContains(output: () => string, text: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!output().includes(text)) {
    if (Date.now() > deadline) throw new Error(`"${text}" not seen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Resolves when GET `url` answers 200. */
export async function httpReady(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export function workerComponent(env: NodeJS.ProcessEnv, logFile: string, onUnplannedExit: NodeComponentSpec['onUnplannedExit']): Component {
  return nodeComponent({
    name: 'worker',
    entry: workerEntry,
    // info: readiness is the "worker started" line.
    env: { WORKER_METRICS_PORT: '0', TEMPORAL_SDK_METRICS_PORT: '0', SCHEDULES_AT_WORKER_START: 'false', ...env, LOG_LEVEL: 'info' },
    logFile,
    ready: (_child, output) => outputContains(output, '"msg":"worker started"'),
    onUnplannedExit,
  });
}

export function apiComponent(env: NodeJS.ProcessEnv & { PORT: string }, logFile: string, onUnplannedExit: NodeComponentSpec['onUnplannedExit']): Component {
  return nodeComponent({
    name: 'api',
    entry: apiEntry,
    env: { API_METRICS_PORT: '0', ...env },
    logFile,
    ready: () => httpReady(`http://127.0.0.1:${env.PORT}/healthz`),
    onUnplannedExit,
  });
}

/** The dev server on a SQLite file: SIGKILL leaves the file as a crash would; start reopens it. */
export function temporalComponent(port: number, dbFile: string, logFile: string, onUnplannedExit: NodeComponentSpec['onUnplannedExit']): Component & { address: string } {
  let server: DevServer | undefined;
  let killing = false;
  const address = `127.0.0.1:${port}`;
  return {
    name: 'temporal',
    address,
    get pid() {
      return server?.process.pid;
    },
    async start() {
      killing = false;
      server = await startDevServer({ port, dbFile, logFile });
      server.process.once('exit', (code, signal) => {
        if (!killing) onUnplannedExit('temporal', code, signal);
      });
      // Idempotent: also proves the search attributes survived the restart (logged when re-added).
      await prepareNamespace(address, 'default');
    },
    async kill(signal) {
      if (!server) return;
      killing = true;
      if (signal === 'SIGKILL') {
        if (server.process.exitCode === null && server.process.signalCode === null) {
          server.process.kill('SIGKILL');
          await exited(server.process);
        }
      } else {
        await server.stop();
      }
    },
  };
}
