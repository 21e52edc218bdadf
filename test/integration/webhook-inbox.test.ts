/**
 * The webhook inbox on the real server and database: a webhook is acknowledged once its ledger row
 * is committed, and the drainer starts its run later.
 *   - PostgreSQL unreachable → 503 + Retry-After, nothing written.
 *   - Temporal unreachable for the drainer → the rows wait (counted as failed starts), and start
 *     once a drainer reaches the server; each runs once.
 *   - A run that exists while its row still waits (a drainer killed between the start and its
 *     commit) is found by the idempotent start and marked, never run twice.
 *   - A NOTIFY wakes the drainer: with a one-minute poll, an event still starts within seconds,
 *     also when the notification arrives while the drainer's lane is in the middle of an empty claim.
 *   - Concurrent bursts with duplicates across requests, drained by two drainers at once: one row,
 *     one run and one payment per event.
 */
import type { Pool } from 'pg';
import { Counter, Registry } from 'prom-client';
import type { Config } from '../../lib/config/config';
import { createLogger } from '../../lib/logger';
import { findFreePort } from '../../lib/temporal/dev-server';
import { createPool } from '../../lib/data/db';
import { startWebhook } from '../../lib/temporal/start-work';
import { drainInbox, type InboxDrainer } from '../../workers/inbox-drainer';
import { inParallel } from '../support/concurrency';
import { eventually, postStripe, startApi, startWorker, stripeEvent, testConfig, testPool, type RunningApi, type RunningWorker } from '../support/harness';
import { whenStarted } from '../support/inbox';

const silent = createLogger('inbox-test', 'silent');
let pool: Pool;
let config: Config;
let api: RunningApi;
let worker: RunningWorker;
const drainers: InboxDrainer[] = [];

beforeAll(async () => {
  pool = testPool();
  config = testConfig({ INBOX_POLL_MS: 60_000 });
  api = await startApi(config, pool);
  // The worker alone: each test runs the drainers it needs.
  worker = await startWorker(config, pool, { drainInbox: false });
});
afterAll(async () => {
  await Promise.all(drainers.map((d) => d.stop()));
  await api?.close();
  await worker?.stop();
  await pool?.end();
});

function drain(overrides: Partial<Config> = {}, starts?: Counter<'outcome'>): InboxDrainer {
  const drainer = drainInbox({ config: { ...config, ...overrides }, pool, logger: silent, starts });
  drainers.push(drainer);
  return drainer;
}

async function stopDrainer(drainer: InboxDrainer): Promise<void> {
  drainers.splice(drainers.indexOf(drainer), 1);
  await drainer.stop();
}

async function rowOf(workflowId: string): Promise<{ started_at: Date | null; run_id: string | null; status: string } | undefined> {
  const { rows } = await pool.query<{ started_at: Date | null; run_id: string | null; status: string }>(
    'SELECT started_at, run_id, status FROM webhook_events WHERE workflow_id = $1',
    [workflowId],
  );
  return rows[0];
}

async function paymentsOf(paymentIds: string[]): Promise<number> {
  const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM payments WHERE tenant = $1 AND payment_id = ANY($2::text[])', [
    config.DEFAULT_TENANT,
    paymentIds,
  ]);
  return rows[0]!.n;
}

const paymentIdOf = (event: Record<string, unknown>): string => (event.data as { object: { id: string } }).object.id;

test('PostgreSQL unreachable: 503 with Retry-After, and nothing is written', async () => {
  const deadPool = createPool(`postgres://postgres@127.0.0.1:${await findFreePort()}/none`);
  const deadApi = await startApi(config, deadPool);
  try {
    const event = stripeEvent();
    const res = await postStripe(deadApi.url, event);
    expect(res.status).toBe(503);
    expect(res.json).toMatchObject({ error: 'inbox_unavailable' });
    expect(await rowOf(`webhook:${config.DEFAULT_TENANT}:stripe:${String(event.id)}`)).toBeUndefined();
  } finally {
    await deadApi.close();
    await deadPool.end();
  }
});

test('Temporal unreachable for the drainer: rows wait, then start once a drainer reaches the server; one run each', async () => {
  const registry = new Registry();
  const starts = new Counter({ name: 'inbox_test_starts', help: 'starts', labelNames: ['outcome'], registers: [registry] });
  const cut = drain({ TEMPORAL_ADDRESS: `127.0.0.1:${await findFreePort()}`, TEMPORAL_START_TIMEOUT_MS: 500, INBOX_POLL_MS: 100 }, starts);
  const events = Array.from({ length: 5 }, () => stripeEvent());
  const ids: string[] = [];
  for (const event of events) {
    const res = await postStripe(api.url, event);
    expect(res.status).toBe(202);
    ids.push(String(res.json.workflowId));
  }
  // The cut-off drainer tried and failed: the rows are still waiting.
  await eventually(async () => ((await registry.getSingleMetric('inbox_test_starts')!.get()).values.find((v) => v.labels.outcome === 'failed')?.value ?? 0) >= 1 || undefined);
  for (const id of ids) expect((await rowOf(id))?.started_at).toBeNull();
  await stopDrainer(cut);

  drain();
  for (const id of ids) await (await whenStarted(api.workflows, id)).result();
  for (const id of ids) expect(await rowOf(id)).toMatchObject({ status: 'completed', started_at: expect.any(Date) as unknown, run_id: expect.any(String) as unknown });
  expect(await paymentsOf(events.map(paymentIdOf))).toBe(events.length);
});

test('a run that exists while its row waits (killed between start and commit) is marked, not run again', async () => {
  const event = stripeEvent();
  const res = await postStripe(api.url, event);
  expect(res.status).toBe(202);
  const workflowId = String(res.json.workflowId);
  const row = await rowOf(workflowId);
  expect(row?.started_at).toBeNull();
  // What a drainer that died before its commit leaves behind: a run, and a row still waiting.
  const first = await startWebhook(api.workflows, config, {
    tenant: config.DEFAULT_TENANT,
    provider: 'stripe',
    eventId: String(event.id),
    eventType: String(event.type),
    receivedAt: new Date().toISOString(),
    payload: event,
    inboxed: true,
  });
  expect(first.started).toBe(true);
  drain();
  await eventually(async () => ((await rowOf(workflowId))?.started_at ? true : undefined));
  expect((await rowOf(workflowId))?.run_id).toBe(first.runId);
  await (await whenStarted(api.workflows, workflowId)).result();
  expect(await paymentsOf([paymentIdOf(event)])).toBe(1);
  const runs = await api.workflows.count(`WorkflowId = '${workflowId}'`);
  expect(runs.count).toBe(1);
});

test('a NOTIFY wakes the drainer: with a one-minute poll, a webhook still starts within seconds', async () => {
  drain(); // INBOX_POLL_MS is 60 000 in this file
  await new Promise((resolve) => setTimeout(resolve, 1_000)); // its first (empty) claim is done; it sleeps
  const res = await postStripe(api.url, stripeEvent());
  expect(res.status).toBe(202);
  // Well under the poll: only the notification can have woken it.
  await whenStarted(api.workflows, String(res.json.workflowId), 30_000);
});

/**
 * A pool for a drainer whose `held`-th inbox claim answers only once the test releases it (after
 * the claim has read the inbox and before its lane decides to sleep); `listening` once it LISTENs.
 */
function gatedClaimPool(held = 1): { pool: Pool; claimHeld: Promise<void>; listening: Promise<void>; release: () => void } {
  const gatedPool = testPool();
  let claims = 0;
  let claimReturned!: () => void;
  const claimHeld = new Promise<void>((resolve) => (claimReturned = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let listened!: () => void;
  const listening = new Promise<void>((resolve) => (listened = resolve));
  const connect = gatedPool.connect.bind(gatedPool);
  // pg's overloads of query() cannot be restated here; the wrapper passes every call through unchanged.
  type AnyQuery = (...args: unknown[]) => Promise<unknown>;
  gatedPool.connect = (async () => {
    const client = await connect();
    const query = (client.query as AnyQuery).bind(client);
    (client as unknown as { query: AnyQuery }).query = async (...args: unknown[]) => {
      const result = await query(...args);
      if (typeof args[0] === 'string' && args[0].startsWith('LISTEN')) listened();
      if (typeof args[0] === 'string' && args[0].includes('FOR UPDATE SKIP LOCKED') && ++claims === held) {
        claimReturned();
        await released;
      }
      return result;
    };
    return client;
  }) as typeof gatedPool.connect;
  return { pool: gatedPool, claimHeld, listening, release };
}

test('a NOTIFY that arrives while the lane claims (its row committed after the claim looked) is not lost: the lane claims again', async () => {
  const gate = gatedClaimPool();
  const drainer = drainInbox({ config: { ...config, INBOX_DRAIN_CONCURRENCY: 1 }, pool: gate.pool, logger: silent });
  try {
    // One lane: its first claim found nothing and is held; the drainer listens.
    await Promise.all([gate.claimHeld, gate.listening]);
    const res = await postStripe(api.url, stripeEvent());
    expect(res.status).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 500)); // the notification has come and gone
    gate.release();
    // Well under the one-minute poll: only the notification seen mid-claim can have sent it back.
    await whenStarted(api.workflows, String(res.json.workflowId), 30_000);
  } finally {
    gate.release();
    await drainer.stop();
    await gate.pool.end();
  }
});

test('a stop that comes while a lane claims ends the drainer at once, not after a poll', async () => {
  // The second claim: the first one may see the notification the drainer gives itself once it
  // listens, and would claim again rather than sleep; the second one sees none.
  const gate = gatedClaimPool(2);
  const drainer = drainInbox({ config: { ...config, INBOX_DRAIN_CONCURRENCY: 1 }, pool: gate.pool, logger: silent });
  try {
    await Promise.all([gate.claimHeld, gate.listening]);
    const stopping = drainer.stop();
    gate.release();
    // The lane's claim ends after the stop; it must not then sleep the one-minute poll.
    const outcome = await Promise.race([stopping.then(() => 'stopped'), new Promise((resolve) => setTimeout(() => resolve('still stopping after 10 s'), 10_000))]);
    expect(outcome).toBe('stopped');
  } finally {
    gate.release();
    await gate.pool.end();
  }
});

test('bursts with duplicates across requests, drained by two drainers at once: one row, one run, one payment per event', async () => {
  drain();
  drain();
  const events = Array.from({ length: 60 }, () => stripeEvent());
  // Every event three times, interleaved, 20 requests in flight.
  const sends = [...events, ...events, ...events].sort(() => Math.random() - 0.5);
  const answers = await inParallel(sends, 20, (event) => postStripe(api.url, event));
  const byId = new Map<string, number[]>();
  answers.forEach((a, i) => byId.set(String(sends[i]!.id), [...(byId.get(String(sends[i]!.id)) ?? []), a.status]));
  for (const statuses of byId.values()) expect(statuses.sort()).toEqual([200, 200, 202]);
  const ids = events.map((e) => `webhook:${config.DEFAULT_TENANT}:stripe:${String(e.id)}`);
  await inParallel(ids, 20, async (id) => (await whenStarted(api.workflows, id)).result());
  const { rows } = await pool.query<{ n: number; completed: number }>(
    "SELECT count(*)::int AS n, (count(*) FILTER (WHERE status = 'completed'))::int AS completed FROM webhook_events WHERE workflow_id = ANY($1::text[])",
    [ids],
  );
  expect(rows[0]).toEqual({ n: events.length, completed: events.length });
  expect(await paymentsOf(events.map(paymentIdOf))).toBe(events.length);
  const runs = await api.workflows.count(`TaskQueue = '${config.TEMPORAL_TASK_QUEUE}' AND WorkflowType = 'processWebhook' AND WorkflowId STARTS_WITH 'webhook:${config.DEFAULT_TENANT}:stripe:evt_'`);
  expect(runs.count).toBeGreaterThanOrEqual(events.length);
  for (const id of ids) expect((await api.workflows.count(`WorkflowId = '${id}'`)).count).toBe(1);
});

afterEach(async () => {
  // Each test's drainers stop with it; its rows are its own tenant's.
  await Promise.all(drainers.splice(0).map((d) => d.stop()));
});
