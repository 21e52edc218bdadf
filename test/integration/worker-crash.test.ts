/**
 * A real worker process is SIGKILLed after the provider charged but before the activity
 * completed; a new worker process picks the call up when the attempt times out and retries with
 * the same idempotency key, so the provider charges exactly once. Runs the compiled worker
 * (dist/, built by `npm test`'s set-up), exactly as production runs it.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { Config } from '../../lib/config/config';
import type { ProviderRegistry } from '../../lib/config/registry';
import { fakeCredentials } from '../fakes/credentials';
import { startFakeProviders, type FakeProviders } from '../fakes/provider-server';
import { eventually, registryAt, startApi, testConfig, testPool, type RunningApi } from '../support/harness';
import { assertWorkerBuilt, exited, startWorkerProcess as startWorker } from '../support/worker-process';

let pool: Pool;
let fakes: FakeProviders;
let config: Config;
let registry: ProviderRegistry;
let api: RunningApi;
const processes: ChildProcess[] = [];

async function startWorkerProcess(): Promise<ChildProcess> {
  const child = await startWorker(config, registry, fakes.url);
  processes.push(child);
  return child;
}

beforeAll(async () => {
  assertWorkerBuilt();
  pool = testPool();
  fakes = await startFakeProviders();
  config = testConfig();
  registry = registryAt(fakes.url);
  api = await startApi(config, pool, registry);
});

afterAll(async () => {
  for (const child of processes) child.kill('SIGKILL');
  await Promise.all(processes.map(exited));
  await api?.close();
  await fakes?.close();
  await pool?.end();
});

test('worker killed after the provider charged, before the activity completed → exactly one charge', async () => {
  // The provider processes the charge at once but answers only after 8 s: time to kill the worker.
  fakes.addFault({ provider: 'stripe', operation: 'createPaymentIntent', kind: 'latency', latencyMs: 8000, times: 1 });
  const first = await startWorkerProcess();

  const res = await api.fetch(`/calls/stripe/createPaymentIntent?wait=0`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
    body: JSON.stringify({ params: { amount: 1999, currency: 'usd', customer: 'cus_crash' } }),
  });
  expect(res.status).toBe(202);
  const { workflowId } = (await res.json()) as { workflowId: string };

  await eventually(() => Promise.resolve(fakes.state().charges === 1 ? true : undefined));
  first.kill('SIGKILL');
  await exited(first);

  await startWorkerProcess();
  const result = (await api.workflows.getHandle(workflowId).result()) as { data: { id: string } };

  const attempts = fakes.requests({ provider: 'stripe', operation: 'createPaymentIntent' });
  expect(attempts).toHaveLength(2);
  expect(attempts[1]!.idempotencyKey).toBe(attempts[0]!.idempotencyKey);
  expect(attempts[1]!.replayed).toBe(true);
  expect(fakes.state().charges).toBe(1);
  expect(result.data.id).toMatch(/^pi_/);

  // Credentials live only in the worker's environment: never in the workflow's history.
  const history = JSON.stringify(await api.workflows.getHandle(workflowId).fetchHistory());
  for (const secret of Object.values(fakeCredentials)) expect(history).not.toContain(secret);
});
