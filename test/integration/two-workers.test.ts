/**
 * Two worker processes poll the same task queues at once, as a scaled-out deployment runs them.
 * A few hundred signed Stripe webhooks and a batch of provider calls go through the API; the
 * histories on the server show workflow tasks and activities completed by both processes (each
 * event names the worker identity, `{pid}@{host}`), and nothing was done twice: one ledger row and
 * one payment row per event, one provider charge per call. Runs the compiled worker (dist/, built
 * by `npm test`'s set-up), exactly as production runs it.
 */
import type { ChildProcess } from 'node:child_process';
import { inParallel } from '../support/concurrency';
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { Config } from '../../lib/config/config';
import type { ProviderRegistry } from '../../lib/config/registry';
import { startFakeProviders, type FakeProviders } from '../fakes/provider-server';
import { postStripe, registryAt, startApi, stripeEvent, testConfig, testPool, waitScale, type RunningApi } from '../support/harness';
import { assertWorkerBuilt, exited, startWorkerProcess } from '../support/worker-process';
import { whenStarted } from '../support/inbox';

// A third as many in CI's cache-off step, where every activation replays its history: the point
// is the split between two processes, which a hundred webhooks show as well.
const WEBHOOKS = 300 / waitScale;
const CALLS = 60 / waitScale;
/** Requests in flight at once: enough that both workers have tasks waiting. */
const CONCURRENCY = 25;

let pool: Pool;
let fakes: FakeProviders;
let config: Config;
let registry: ProviderRegistry;
let api: RunningApi;
let workers: ChildProcess[] = [];

beforeAll(async () => {
  assertWorkerBuilt();
  pool = testPool();
  fakes = await startFakeProviders();
  config = testConfig();
  registry = registryAt(fakes.url);
  api = await startApi(config, pool, registry);
  workers = await Promise.all([startWorkerProcess(config, registry, fakes.url), startWorkerProcess(config, registry, fakes.url)]);
}, 120_000 * waitScale);

afterAll(async () => {
  // Graceful first (SIGTERM finishes in-flight tasks), then make sure.
  for (const child of workers) child.kill('SIGTERM');
  const stopped = Promise.all(workers.map(exited));
  const late = setTimeout(() => workers.forEach((child) => child.kill('SIGKILL')), 15_000);
  await stopped;
  clearTimeout(late);
  await api?.close();
  await fakes?.close();
  await pool?.end();
}, 30_000);

interface HistoryIdentities {
  workflowTasks: string[];
  activities: string[];
}

/** Who completed each workflow task and who started each (regular) activity, from the server's history. */
async function identitiesIn(workflowId: string): Promise<HistoryIdentities> {
  const history = await api.workflows.getHandle(workflowId).fetchHistory();
  const found: HistoryIdentities = { workflowTasks: [], activities: [] };
  for (const event of history.events ?? []) {
    const completed = event.workflowTaskCompletedEventAttributes?.identity;
    if (completed) found.workflowTasks.push(completed);
    const started = event.activityTaskStartedEventAttributes?.identity;
    if (started) found.activities.push(started);
  }
  return found;
}

test('two worker processes share the work, and nothing is done twice', async () => {
  const identities = workers.map((child) => `${child.pid}@`);
  const workerOf = (identity: string): number => identities.findIndex((prefix) => identity.startsWith(prefix));

  const events = Array.from({ length: WEBHOOKS }, () => stripeEvent());
  const calls = Array.from({ length: CALLS }, () => randomUUID());
  const [webhookAnswers, callAnswers] = await Promise.all([
    inParallel(events, CONCURRENCY, (event) => postStripe(api.url, event)),
    inParallel(calls, 5, async (key) => {
      const res = await api.fetch('/calls/stripe/createPaymentIntent?wait=0', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        // critical: never refused by the (shared, daily) budget of the test database
        body: JSON.stringify({ params: { amount: 1000, currency: 'usd', customer: `cus_${key.slice(0, 8)}` }, priority: 'critical' }),
      });
      return { status: res.status, json: (await res.json()) as { workflowId: string } };
    }),
  ]);
  // Any other answer is shown with its body (its error and reason): a full local run once saw six 503s here, not reproduced since.
  expect(webhookAnswers.filter((a) => a.status !== 202)).toEqual([]);
  expect(callAnswers.map((a) => a.status)).toEqual(calls.map(() => 202));

  const workflowIds = [...webhookAnswers.map((a) => String(a.json.workflowId)), ...callAnswers.map((a) => a.json.workflowId)];
  await inParallel(workflowIds, 20, async (id) => (await whenStarted(api.workflows, id)).result());

  // Spread: workflow tasks (webhooks and calls) and provider-call activities ran on both processes.
  const workflowTasksBy = [0, 0];
  const activitiesBy = [0, 0];
  const strangers = new Set<string>();
  for (const found of await inParallel(workflowIds, 20, identitiesIn)) {
    for (const identity of found.workflowTasks) {
      const index = workerOf(identity);
      if (index < 0) strangers.add(identity);
      else workflowTasksBy[index]! += 1;
    }
    for (const identity of found.activities) {
      const index = workerOf(identity);
      if (index < 0) strangers.add(identity);
      else activitiesBy[index]! += 1;
    }
  }
  // Printed so a run shows how the work was split.
  console.log(`workflow tasks by worker: ${workflowTasksBy.join(' / ')}; activities by worker: ${activitiesBy.join(' / ')}`);
  expect([...strangers]).toEqual([]);
  for (const count of [...workflowTasksBy, ...activitiesBy]) expect(count).toBeGreaterThan(0);

  // Nothing twice: one ledger row per event, one payment per payment intent, one charge per call.
  const ledger = await pool.query<{ event_id: string; status: string }>('SELECT event_id, status FROM webhook_events WHERE tenant = $1', [config.DEFAULT_TENANT]);
  expect(ledger.rows).toHaveLength(WEBHOOKS);
  expect(new Set(ledger.rows.map((r) => r.event_id))).toEqual(new Set(events.map((e) => String(e.id))));
  expect(ledger.rows.every((r) => r.status === 'completed')).toBe(true);
  const paymentIds = events.map((e) => (e.data as { object: { id: string } }).object.id);
  const payments = await pool.query<{ payment_id: string; n: number }>(
    'SELECT payment_id, count(*)::int AS n FROM payments WHERE tenant = $1 GROUP BY payment_id',
    [config.DEFAULT_TENANT],
  );
  expect(new Map(payments.rows.map((r) => [r.payment_id, r.n]))).toEqual(new Map(paymentIds.map((id) => [id, 1])));

  const charges = fakes.requests({ provider: 'stripe', operation: 'createPaymentIntent' });
  expect(new Set(charges.map((r) => r.idempotencyKey)).size).toBe(CALLS);
  expect(charges).toHaveLength(CALLS);
  expect(fakes.state().charges).toBe(CALLS);
}, 180_000 * waitScale);
