/**
 * Starts the pinned Temporal CLI's dev server (`temporal server start-dev`) as a child process.
 * Used by `npm start` (persistent SQLite file, Web UI) and by the tests (own free port).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { toolsBinDir } from '../config/paths';
import { waitForTemporal } from './connection';

export const temporalCliPath = path.join(toolsBinDir, 'temporal');

/** SQLite pragmas that more than double the dev server's throughput (ARCHITECTURE.md, Scale). */
const SQLITE_PRAGMAS = ['journal_mode=wal', 'synchronous=normal'];

/**
 * Dynamic config: a batch workflow receives many concurrent addItem updates; the default cap of
 * 10 in-flight updates per workflow would refuse bursts (RESOURCE_EXHAUSTED). Set the same on a
 * production server (docker-compose.yml's dynamic config).
 */
const DYNAMIC_CONFIG = ['history.maxInFlightUpdates=500'];

export interface DevServerOptions {
  ip?: string;
  port: number;
  /** Web UI port; omit for a headless server. */
  uiPort?: number;
  /** The codec endpoint the Web UI's browser calls (`--ui-codec-endpoint`), e.g. the API's development codec. */
  uiCodecEndpoint?: string;
  /** Server Prometheus metrics port; omit for a random free one. */
  metricsPort?: number;
  /** SQLite file for persistent state; omit for an in-memory server. */
  dbFile?: string;
  namespace?: string;
  /** File that receives the server's own output (appended); discarded when omitted. */
  logFile?: string;
  /** More `--dynamic-config-value KEY=VALUE` settings (tests shorten the default workflow task timeout). */
  dynamicConfig?: string[];
}

export interface DevServer {
  address: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * The dynamic-config value that sets the server's default workflow task timeout (e.g. `2s`), for
 * every run started without one (this project sets none). Shorter tasks make the SDK complete a task
 * that waits on a local activity at its heartbeat (80 % of the timeout), splitting it as production
 * load can; and with no sticky cache, a task the SDK loses is retried sooner.
 */
export function workflowTaskTimeoutConfig(timeout: string): string {
  if (!/^\d+(ms|s)$/.test(timeout)) throw new Error(`a workflow task timeout is a duration such as 2s, not ${JSON.stringify(timeout)}`);
  return `history.defaultWorkflowTaskTimeout=${JSON.stringify(timeout)}`;
}

export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  if (!existsSync(temporalCliPath)) {
    throw new Error(`Temporal CLI not found at ${temporalCliPath}; run scripts/setup.sh first`);
  }
  const ip = options.ip ?? '127.0.0.1';
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(options.port), '--log-level', 'warn'];
  if (options.uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(options.uiPort));
  if (options.uiPort !== undefined && options.uiCodecEndpoint !== undefined) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  if (options.metricsPort !== undefined) args.push('--metrics-port', String(options.metricsPort));
  if (options.dbFile !== undefined) {
    mkdirSync(path.dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  for (const pragma of SQLITE_PRAGMAS) args.push('--sqlite-pragma', pragma);
  for (const value of [...DYNAMIC_CONFIG, ...(options.dynamicConfig ?? [])]) args.push('--dynamic-config-value', value);
  if (options.namespace && options.namespace !== 'default') args.push('--namespace', options.namespace);

  const out = options.logFile === undefined ? 'ignore' : openSync(options.logFile, 'a');
  const child = spawn(temporalCliPath, args, { stdio: ['ignore', out, out] });
  if (typeof out === 'number') closeSync(out);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const address = `${ip}:${options.port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await Promise.race([
      waitForTemporal(address, 60_000),
      exited.then(() => {
        throw new Error(`temporal server start-dev exited with code ${child.exitCode} before answering`);
      }),
    ]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { address, process: child, stop };
}
