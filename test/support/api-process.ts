/**
 * Runs the compiled API (`node dist/api/server.js`, built by `npm test`'s set-up) as its own
 * process on a free port, against a test's queues, so tests can send it real signals and watch it
 * exit. Its JSON log lines are kept for assertions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../../lib/config/config';
import { projectRoot } from '../../lib/config/paths';
import { baseUrlOverrideVariable, type ProviderRegistry } from '../../lib/config/registry';

export const apiEntry = path.join(projectRoot, 'dist', 'api', 'server.js');

export function assertApiBuilt(): void {
  if (!existsSync(apiEntry)) throw new Error(`${apiEntry} is missing: run npm test (its set-up builds dist/)`);
}

/** One pino line of the API's stdout. */
export interface LogLine {
  msg: string;
  level: number;
  [field: string]: unknown;
}

export interface ApiProcess {
  child: ChildProcess;
  url: string;
  port: number;
  /** Its metrics port's base URL (API_METRICS_PORT on METRICS_HOST), from its start log line. */
  metricsUrl: string;
  /** Every JSON line logged so far. */
  logs(): LogLine[];
  /** Everything written so far (stdout and stderr), for failure messages. */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal) once the process has ended. */
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the API on port 0 (the OS picks one); resolves once it listens, with the URL it logs. */
export function startApiProcess(config: Config, registry: ProviderRegistry, fakesUrl: string, env: NodeJS.ProcessEnv = {}): Promise<ApiProcess> {
  const child = spawn(process.execPath, [apiEntry], {
    env: {
      ...process.env,
      PORT: '0',
      API_METRICS_PORT: '0',
      TEMPORAL_TASK_QUEUE: config.TEMPORAL_TASK_QUEUE,
      PROVIDER_TASK_QUEUE_PREFIX: config.PROVIDER_TASK_QUEUE_PREFIX,
      DEFAULT_TENANT: config.DEFAULT_TENANT,
      LOG_LEVEL: 'info',
      ...Object.fromEntries(Object.keys(registry).map((name) => [baseUrlOverrideVariable(name), fakesUrl])),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let partial = '';
  const lines: LogLine[] = [];
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const text = partial + chunk.toString();
      const complete = text.split('\n');
      partial = complete.pop() ?? '';
      for (const line of complete) {
        if (!line.startsWith('{')) continue;
        try {
          const parsed = JSON.parse(line) as LogLine;
          lines.push(parsed);
          if (parsed.msg === 'api listening' && typeof parsed.url === 'string') {
            const port = Number(new URL(parsed.url).port);
            const metricsUrl = typeof parsed.metrics === 'string' ? parsed.metrics.replace(/\/metrics$/, '') : '';
            resolve({ child, url: parsed.url, port, metricsUrl, logs: () => [...lines], output: () => output, exit });
          }
        } catch {
          // not a log line
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    void exit.then(({ code, signal }) => reject(new Error(`api exited (${signal ?? code}) before listening:\n${output}`)));
  });
}
