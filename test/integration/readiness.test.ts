/**
 * Readiness includes the worker: /readyz said ready with no worker, so webhooks got 202
 * and nothing ran, and nobody could tell. Now the API's /readyz asks Temporal whether any worker
 * polls the main task queue: none is `degraded` (still 200, webhooks still accepted: they run once
 * a worker is back); and the worker answers /healthz and /readyz on its metrics port, ready while
 * every one of its workers runs and polls.
 */
import os from 'node:os';
import path from 'node:path';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { ChildProcess } from 'node:child_process';
import type { Pool } from 'pg';
import type { Config } from '../../lib/config/config';
import { serveMetrics, metricsServerUrl } from '../../lib/metrics-server';
import { createWorkerMetrics, workerReadiness } from '../../workers/metrics';
import { assertWorkerBuilt, exited, startWorkerProcess } from '../support/worker-process';
import { eventually, postStripe, startApi, startWorker, stripeEvent, testConfig, testPool, type RunningApi, type RunningWorker } from '../support/harness';
import { whenStarted } from '../support/inbox';

let pool: Pool;
let config: Config;
let api: RunningApi;
let worker: RunningWorker | undefined;

beforeAll(async () => {
  pool = testPool();
  config = testConfig(); // its own task queue: no worker polls it yet
  api = await startApi(config, pool);
});

afterAll(async () => {
  await api?.close();
  await worker?.stop();
  await pool?.end();
});

interface Readiness {
  status: string;
  worker: string;
  checks: { temporal: { ok: boolean }; postgres: { ok: boolean }; worker: { ok: boolean; status: string; taskQueue: string; pollers?: number } };
}

async function readyz(): Promise<{ status: number; body: Readiness }> {
  const res = await fetch(`${api.url}/readyz`);
  return { status: res.status, body: (await res.json()) as Readiness };
}

test("the API's /readyz: degraded (200) while no worker polls, webhooks still accepted; ready once one polls, and the accepted webhook runs", async () => {
  const before = await readyz();
  expect(before.status).toBe(200);
  expect(before.body).toMatchObject({
    status: 'degraded',
    worker: 'none polling',
    checks: { temporal: { ok: true }, postgres: { ok: true }, worker: { ok: false, status: 'none polling', taskQueue: config.TEMPORAL_TASK_QUEUE, pollers: 0 } },
  });
  // Durable: accepted now, run when a worker comes.
  const accepted = await postStripe(api.url, stripeEvent());
  expect(accepted.status).toBe(202);

  worker = await startWorker(config, pool);
  // The answer is cached for a few seconds: it changes within that.
  const after = await eventually(async () => {
    const answer = await readyz();
    return answer.body.status === 'ready' ? answer : undefined;
  }, 20_000);
  expect(after.status).toBe(200);
  expect(after.body).toMatchObject({ worker: 'polling', checks: { worker: { ok: true, status: 'polling' } } });
  expect(after.body.checks.worker.pollers).toBeGreaterThanOrEqual(1);
  await (await whenStarted(api.workflows, String(accepted.json.workflowId))).result();
});

test("the worker's /readyz: 503 before its workers exist and after they stop, 200 while every one is RUNNING", async () => {
  const group = await startWorker(testConfig(), pool);
  const started: { group?: RunningWorker['workers'] } = {};
  const server = await serveMetrics({ registry: createWorkerMetrics().registry, port: 0, probes: { readyz: () => workerReadiness(started.group) } });
  const url = `${metricsServerUrl(server)}/readyz`;
  try {
    const starting = await fetch(url);
    expect([starting.status, await starting.json()]).toEqual([503, { status: 'starting' }]);
    started.group = group.workers;
    const running = await fetch(url);
    const body = (await running.json()) as { status: string; workers: Array<{ taskQueue: string; state: string }> };
    expect(running.status).toBe(200);
    expect(body.status).toBe('ready');
    expect(body.workers.length).toBe(group.workers.workers.length);
    expect(body.workers.every((w) => w.state === 'RUNNING')).toBe(true);
    await group.stop();
    const stopped = await fetch(url);
    expect(stopped.status).toBe(503);
    expect(((await stopped.json()) as { workers: Array<{ state: string }> }).workers.every((w) => w.state !== 'RUNNING')).toBe(true);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

test('the worker process serves /healthz and /readyz on WORKER_METRICS_PORT (127.0.0.1): ready once it polls', async () => {
  assertWorkerBuilt();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const seen: number[] = [];
  let child: ChildProcess | undefined;
  let done = false;
  // No prebuilt bundle here (the other suites' workers load jest's): this worker bundles workflows/ at start, as by default.
  const starting = startWorkerProcess(testConfig(), {}, 'http://127.0.0.1:9', { WORKER_METRICS_PORT: String(port), WORKFLOW_BUNDLE_PATH: undefined }).finally(() => (done = true));
  try {
    // While it starts (bundling the workflows, connecting): alive, not ready.
    while (!done) {
      const res = await fetch(`${base}/readyz`).catch(() => undefined);
      if (res) {
        seen.push(res.status);
        await res.arrayBuffer();
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child = await starting;
    // 503 until its workers run, then 200 (they run a little before it logs "worker started").
    expect(seen.join(' ')).toMatch(/^(503 ?)*(200 ?)*$/);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { status: string }).status).toBe('ready');
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
    expect((await fetch(`${base}/other`)).status).toBe(404);
  } finally {
    child ??= await starting.catch(() => undefined);
    child?.kill('SIGTERM');
    if (child) await exited(child);
  }
}, 120_000);

test('a worker whose WORKFLOW_BUNDLE_PATH is not there refuses to start, naming it', async () => {
  assertWorkerBuilt();
  const missing = path.join(os.tmpdir(), `no-such-bundle-${process.pid}.js`);
  await expect(startWorkerProcess(testConfig(), {}, 'http://127.0.0.1:9', { WORKFLOW_BUNDLE_PATH: missing })).rejects.toThrow(`WORKFLOW_BUNDLE_PATH ${missing} does not exist`);
});

test('a worker without payload encryption refuses a prebuilt bundle (it carries the encrypting workers\' failure converter)', async () => {
  assertWorkerBuilt();
  const bundle = process.env.TEST_WORKFLOW_BUNDLE!;
  await expect(startWorkerProcess(testConfig(), {}, 'http://127.0.0.1:9', { WORKFLOW_BUNDLE_PATH: bundle, PAYLOAD_ENCRYPTION_KEYS: undefined })).rejects.toThrow('WORKFLOW_BUNDLE_PATH needs PAYLOAD_ENCRYPTION_KEYS');
});
