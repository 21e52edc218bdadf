/**
 * A local activity can run more than once for one workflow task: after a worker crash, a task
 * timeout, or an eviction with the activity in flight (every activation, with no sticky cache).
 * The health probe's second run used to read back its own first write, so a provider that went
 * from down to up was reported 'up' → 'up' (found by the cache-off run of the integration
 * suite): whatever acts on the change (the provider-down alert's resolution) missed it.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { ProviderConfig } from '../../lib/config/registry';
import { payloadDataConverter } from '../../lib/security/payload-codec';
import type { healthProbe } from '../../workflows/monitoring';
import type { ProbeOutcome } from '../../contracts/monitoring';
import { startStack, type TestStack } from '../support/harness';

const provider = `rerun-${randomUUID().slice(0, 8)}`;

/** Runs probeProvider twice in each attempt, answering the second run's result, as a retried task would. */
const probeRunsTwice: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    async execute(input, next) {
      if (ctx.info.activityType !== 'probeProvider') return next(input);
      await next(input);
      return next(input);
    },
  },
});

let stack: TestStack | undefined;
let client: Client;

beforeAll(async () => {
  stack = await startStack({
    registry: (r) => {
      const stripe = r.stripe!;
      for (const name of Object.keys(r)) delete r[name];
      r[provider] = { ...structuredClone(stripe), name: provider, probe: { ...stripe.probe, intervalSeconds: 3600 } } satisfies ProviderConfig;
    },
    worker: { activityInterceptors: [probeRunsTwice] },
  });
  client = new Client({
    connection: await Connection.connect({ address: stack.config.TEMPORAL_ADDRESS }),
    dataConverter: payloadDataConverter(stack.config.PAYLOAD_ENCRYPTION_KEYS),
  });
});

afterAll(async () => {
  await client?.connection.close();
  await stack?.pool.query('DELETE FROM provider_health WHERE provider = $1', [provider]).catch(() => undefined);
  await stack?.close();
});

function probe(): Promise<ProbeOutcome> {
  return client.workflow.execute<typeof healthProbe>('healthProbe', {
    taskQueue: stack!.config.TEMPORAL_TASK_QUEUE,
    workflowId: `test-probe-rerun:${provider}:${randomUUID()}`,
    args: [{ provider }],
  });
}

test('a probe whose local activity ran twice reports the status it replaced, not its own first write', async () => {
  const { fakes } = stack!;
  expect(await probe()).toMatchObject({ providerStatus: 'up', previousStatus: null });
  fakes.addFault({ provider: 'stripe', operation: 'probe', kind: 'status', status: 503 });
  try {
    expect(await probe()).toMatchObject({ providerStatus: 'down', previousStatus: 'up' });
  } finally {
    fakes.clearFaults();
  }
  expect(await probe()).toMatchObject({ providerStatus: 'up', previousStatus: 'down' });
});

test('a probe whose local activity ran twice is one probe row and one circuit outcome, and answers its first run', async () => {
  const { pool } = stack!;
  const count = async (sql: string): Promise<number> => Number((await pool.query<{ n: string }>(sql, [provider])).rows[0]!.n);
  const probes = await count('SELECT count(*) AS n FROM probe_results WHERE provider = $1');
  const outcomes = await count(`SELECT count(*) AS n FROM provider_call_outcomes WHERE provider = $1 AND operation = 'probe'`);
  const outcome = await probe();
  expect(await count('SELECT count(*) AS n FROM probe_results WHERE provider = $1')).toBe(probes + 1);
  expect(await count(`SELECT count(*) AS n FROM provider_call_outcomes WHERE provider = $1 AND operation = 'probe'`)).toBe(outcomes + 1);
  const { rows } = await pool.query<{ latency_ms: number }>('SELECT latency_ms FROM probe_results WHERE provider = $1 ORDER BY id DESC LIMIT 1', [provider]);
  expect(outcome.latencyMs).toBe(rows[0]!.latency_ms);
});
