/**
 * Runs the compiled worker (`node dist/workers/main.js`, built by `npm test`'s set-up) as its own
 * process against a test's queues and fake providers, so tests can SIGKILL it like a crash.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../../lib/config/config';
import { projectRoot } from '../../lib/config/paths';
import { baseUrlOverrideVariable, type ProviderRegistry } from '../../lib/config/registry';
import { fakeCredentials } from '../fakes/credentials';

export const workerEntry = path.join(projectRoot, 'dist', 'workers', 'main.js');

export function assertWorkerBuilt(): void {
  if (!existsSync(workerEntry)) throw new Error(`${workerEntry} is missing: run npm test (its set-up builds dist/)`);
}

/** Starts the worker process; resolves once it polls. `registry` names the providers to point at `fakesUrl`. */
export function startWorkerProcess(config: Config, registry: ProviderRegistry, fakesUrl: string, env: NodeJS.ProcessEnv = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, [workerEntry], {
    env: {
      ...process.env,
      ...fakeCredentials,
      TEMPORAL_TASK_QUEUE: config.TEMPORAL_TASK_QUEUE,
      PROVIDER_TASK_QUEUE_PREFIX: config.PROVIDER_TASK_QUEUE_PREFIX,
      WORKER_METRICS_PORT: '0',
      TEMPORAL_SDK_METRICS_PORT: '0',
      LOG_LEVEL: 'info',
      // The bundle jest's global set-up made of this run's workflows/: no webpack in every worker start.
      ...(process.env.TEST_WORKFLOW_BUNDLE ? { WORKFLOW_BUNDLE_PATH: process.env.TEST_WORKFLOW_BUNDLE } : {}),
      OUTBOUND_ALLOW: config.OUTBOUND_ALLOW.join(','),
      OUTBOUND_ALLOW_HTTP: String(config.OUTBOUND_ALLOW_HTTP),
      ...Object.fromEntries(Object.keys(registry).map((name) => [baseUrlOverrideVariable(name), fakesUrl])),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('"msg":"worker started"')) resolve(child);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => reject(new Error(`worker exited with ${code} before starting:\n${output}`)));
  });
}

export function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}
