/**
 * GET /health/detailed and the start-up probes on the real Temporal server and PostgreSQL:
 * every dependency with its latency (200 `ok`), providers down or stale (200 `degraded`), a task
 * queue without pollers or a missing namespace (503 naming them), PostgreSQL unreachable in a
 * spawned API process (503 `postgres`, read with a JWT since API keys live in PostgreSQL); the
 * API's /startupz 503 on an unmigrated database and 200 once migrated, for good; the worker's
 * /startupz 503 until its workers poll, 200 afterwards even once they stop (then /readyz speaks).
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { Client, type Pool } from 'pg';
import { migrate, ensureDatabase } from '../../db/migrate';
import { detailedHealth, startupAnswer } from '../../api/schemas';
import type { ProviderConfig } from '../../lib/config/registry';
import { upsertProviderHealth } from '../../lib/data/probes';
import { createPool } from '../../lib/data/db';
import { metricsServerUrl, serveMetrics } from '../../lib/metrics-server';
import { createWorkerMetrics, workerProbes } from '../../workers/metrics';
import { assertApiBuilt, startApiProcess, type ApiProcess } from '../support/api-process';
import { eventually, startApi, startStack, startWorker, testConfig, type RunningWorker, type TestStack } from '../support/harness';

const run = randomUUID().slice(0, 8);
const first = `hd-a-${run}`;
const second = `hd-b-${run}`;
/** A monitor-only entry: probed, never called, so it has no task queue to poll (found through npm start). */
const watched = `hd-watch-${run}`;

let stack: TestStack;

beforeAll(async () => {
  stack = await startStack({
    registry: (r) => {
      const base = r.stripe!;
      const monitorOnly = r.resend!;
      for (const name of Object.keys(r)) delete r[name];
      const clone = (name: string): ProviderConfig => ({ ...structuredClone(base), name });
      r[first] = clone(first);
      r[second] = clone(second);
      r[watched] = { ...structuredClone(monitorOnly), name: watched };
    },
  });
});

afterAll(() => stack?.close());

type Health = ReturnType<typeof detailedHealth.parse>;

async function health(fetcher: (path: string) => Promise<Response> = (path) => stack.api.fetch(path)): Promise<{ status: number; body: Health }> {
  const res = await fetcher('/health/detailed');
  return { status: res.status, body: detailedHealth.parse(await res.json()) };
}

const probed = (provider: string, status: 'up' | 'down') =>
  upsertProviderHealth(stack.pool, { provider, status, score: status === 'up' ? 1 : 0, latencyMs: 42, ok: status === 'up', probeKey: randomUUID() });

test('200 ok: PostgreSQL (migrated), Temporal, the namespace, pollers on every task queue and fresh probes, each with its latency', async () => {
  await probed(first, 'up');
  await probed(second, 'up');
  await probed(watched, 'up');
  // A worker's first poll takes a moment to show in DescribeTaskQueue.
  const { status, body } = await eventually(async () => {
    const answer = await health();
    return answer.body.status === 'ok' ? answer : undefined;
  });
  expect(status).toBe(200);
  expect(body).toMatchObject({ failing: [], degraded: [] });
  const { postgres, temporal, namespace, taskQueues, providers } = body.checks;
  expect(postgres).toMatchObject({ ok: true, pendingMigrations: [] });
  expect(temporal.ok).toBe(true);
  expect(temporal.serverVersion).toMatch(/^\d+\.\d+/);
  expect(namespace).toMatchObject({ ok: true, name: stack.config.TEMPORAL_NAMESPACE, state: 'registered' });
  expect(taskQueues.map((q) => `${q.name}:${q.type}`).sort()).toEqual(
    [
      `${stack.config.TEMPORAL_TASK_QUEUE}:workflow`,
      `${stack.config.TEMPORAL_TASK_QUEUE}:activity`,
      `${stack.config.PROVIDER_TASK_QUEUE_PREFIX}${first}:activity`,
      `${stack.config.PROVIDER_TASK_QUEUE_PREFIX}${second}:activity`,
    ].sort(),
  );
  for (const q of taskQueues) expect(q).toMatchObject({ ok: true, pollers: expect.any(Number) as number });
  expect(providers.providers).toEqual([
    expect.objectContaining({ provider: first, status: 'up', lastProbeOk: true, lastLatencyMs: 42, stale: false }),
    expect.objectContaining({ provider: second, status: 'up', lastProbeOk: true, lastLatencyMs: 42, stale: false }),
    expect.objectContaining({ provider: watched, status: 'up', stale: false }),
  ]);
  for (const check of [postgres, temporal, namespace, providers, ...taskQueues]) expect(check.latencyMs).toBeGreaterThanOrEqual(0);
});

test('200 degraded: a provider whose last probe failed, and one whose probe is stale (its Schedule not running), are named', async () => {
  await probed(first, 'up');
  await probed(second, 'down');
  await stack.pool.query(`UPDATE provider_health SET updated_at = now() - interval '1 hour' WHERE provider = $1`, [first]);
  const { status, body } = await health();
  expect(status).toBe(200);
  expect(body.status).toBe('degraded');
  expect(body.failing).toEqual([]);
  expect(body.degraded.sort()).toEqual([`provider:${first}`, `provider:${second}`].sort());
  expect(body.checks.providers.providers.find((p) => p.provider === first)).toMatchObject({ status: 'up', stale: true });
  expect(body.checks.providers.providers.find((p) => p.provider === second)).toMatchObject({ status: 'down', lastProbeOk: false, stale: false });
});

test('503 failing: task queues nobody polls, and a namespace that does not exist, are named; operators read it, services may not', async () => {
  const orphan = await startApi(testConfig(), stack.pool, stack.registry);
  const missing = await startApi(testConfig({ TEMPORAL_NAMESPACE: `missing-${run}` }), stack.pool, stack.registry);
  try {
    const noPollers = await health((path) => orphan.fetch(path));
    expect(noPollers.status).toBe(503);
    expect(noPollers.body.status).toBe('failing');
    expect(noPollers.body.checks.postgres.ok && noPollers.body.checks.temporal.ok && noPollers.body.checks.namespace.ok).toBe(true);
    expect(noPollers.body.failing).toHaveLength(4);
    expect(noPollers.body.failing.every((part) => part.startsWith('taskQueue:test-'))).toBe(true);
    expect(noPollers.body.checks.taskQueues[0]).toMatchObject({ ok: false, pollers: 0, error: 'no worker polls it' });

    const noNamespace = await health((path) => missing.fetch(path));
    expect(noNamespace.status).toBe(503);
    expect(noNamespace.body.failing).toContain('namespace');
    expect(noNamespace.body.checks.namespace).toMatchObject({ ok: false, name: `missing-${run}` });
    expect(noNamespace.body.checks.namespace.error).toMatch(/not found/i);

    expect((await orphan.fetch('/health/detailed', { headers: { authorization: `Bearer ${await orphan.keyFor('operator')}` } })).status).toBe(503);
    expect((await orphan.fetch('/health/detailed', { headers: { authorization: `Bearer ${await orphan.keyFor('service')}` } })).status).toBe(403);
    expect((await fetch(`${orphan.url}/health/detailed`)).status).toBe(401);
  } finally {
    await orphan.close();
    await missing.close();
  }
});

async function dropDatabase(url: URL): Promise<void> {
  const admin = new Client({ connectionString: process.env.DATABASE_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${url.pathname.slice(1)}" WITH (FORCE)`);
  await admin.end();
}

describe('spawned API processes', () => {
  const secret = `health-detailed-${run}-secret-at-least-32-bytes`;
  const token = () =>
    new SignJWT({ tenant: 'default', role: 'operator' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('health-test')
      .setAudience('switchyard')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(secret));
  const processes: ApiProcess[] = [];
  const spawnApi = async (env: NodeJS.ProcessEnv): Promise<ApiProcess> => {
    assertApiBuilt();
    const api = await startApiProcess(stack.config, stack.registry, stack.fakes.url, { AUTH_JWT_SECRET: secret, AUTH_JWT_ISSUER: 'health-test', AUTH_JWT_AUDIENCE: 'switchyard', ...env });
    processes.push(api);
    return api;
  };
  afterAll(async () => {
    for (const api of processes) {
      api.child.kill('SIGTERM');
      await api.exit;
    }
  });

  test('PostgreSQL unreachable: 503 naming postgres (a JWT reads it: API keys are in PostgreSQL); /readyz and /startupz 503, /healthz 200', async () => {
    const api = await spawnApi({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/unreachable' });
    const res = await fetch(`${api.url}/health/detailed`, { headers: { authorization: `Bearer ${await token()}` } });
    const body = detailedHealth.parse(await res.json());
    expect(res.status).toBe(503);
    expect(body.failing).toContain('postgres');
    expect(body.checks.postgres.ok).toBe(false);
    expect(body.checks.postgres.error).toMatch(/ECONNREFUSED|connect/);
    expect(body.checks.temporal.ok).toBe(true);
    expect(body.degraded).toEqual(['providers']);
    expect((await fetch(`${api.url}/readyz`)).status).toBe(503);
    const startup = await fetch(`${api.url}/startupz`);
    expect(startup.status).toBe(503);
    expect(startupAnswer.parse(await startup.json())).toMatchObject({ status: 'starting', checks: { migrations: { ok: false }, temporal: { ok: true } } });
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
  }, 60_000);

  test('/startupz: 503 on an unmigrated database (every migration pending), 200 once migrated, and kept while PostgreSQL is then gone', async () => {
    const url = new URL(process.env.DATABASE_URL!);
    url.pathname = `/${url.pathname.slice(1)}_startup_${run.replace(/-/g, '')}`;
    await ensureDatabase(url.toString());
    try {
      const api = await spawnApi({ DATABASE_URL: url.toString() });
      const before = await fetch(`${api.url}/startupz`);
      expect(before.status).toBe(503);
      const waiting = startupAnswer.parse(await before.json());
      expect(waiting.checks.migrations.pending).toEqual(expect.arrayContaining(['001_webhook_ledger.sql']));
      await migrate(url.toString());
      const after = await fetch(`${api.url}/startupz`);
      expect(after.status).toBe(200);
      expect(startupAnswer.parse(await after.json())).toEqual({
        status: 'started',
        checks: { migrations: { ok: true, pending: [] }, temporal: { ok: true, namespace: stack.config.TEMPORAL_NAMESPACE } },
      });
      // Start-up has happened: with its database gone, /startupz stays 200 and /readyz says 503.
      await dropDatabase(url);
      expect((await fetch(`${api.url}/startupz`)).status).toBe(200);
      expect((await fetch(`${api.url}/readyz`)).status).toBe(503);
    } finally {
      await dropDatabase(url);
    }
  }, 60_000);
});

test("the worker's /startupz: 503 while its workers are being created or the database is not migrated, 200 once both, kept after they stop", async () => {
  const config = testConfig();
  const started: { group?: RunningWorker['workers'] } = {};
  const unmigrated: Pool = createPool('postgres://postgres@127.0.0.1:1/unreachable');
  const servers = await Promise.all(
    [stack.pool, unmigrated].map((pool) => serveMetrics({ registry: createWorkerMetrics().registry, port: 0, probes: workerProbes(() => started.group, pool) })),
  );
  const [url, brokenUrl] = servers.map((server) => `${metricsServerUrl(server)}/startupz`) as [string, string];
  let worker: RunningWorker | undefined;
  try {
    const starting = await fetch(url);
    expect(starting.status).toBe(503);
    expect(await starting.json()).toMatchObject({ status: 'starting', checks: { migrations: { ok: true }, workers: { ok: false, status: 'starting' } } });
    worker = await startWorker(config, stack.pool);
    started.group = worker.workers;
    const running = await fetch(url);
    expect(running.status).toBe(200);
    expect(await running.json()).toMatchObject({ status: 'started', checks: { migrations: { ok: true, pending: [] }, workers: { ok: true, status: 'ready' } } });
    const broken = await fetch(brokenUrl);
    expect(broken.status).toBe(503);
    expect(await broken.json()).toMatchObject({ status: 'starting', checks: { migrations: { ok: false }, workers: { ok: true } } });
    await worker.stop();
    worker = undefined;
    expect((await fetch(url)).status).toBe(200);
    expect((await fetch(url.replace(/startupz$/, 'readyz'))).status).toBe(503);
  } finally {
    await worker?.stop();
    for (const server of servers) await new Promise((resolve) => server.close(resolve));
    await unmigrated.end();
  }
}, 120_000);
