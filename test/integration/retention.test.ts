/**
 * Retention on the real Temporal dev server and PostgreSQL: `pruneData` in small batches empties
 * old ledger bodies (keeping the row, its dedup key and status) and deletes old finished
 * deliveries, probe results and cost rows, leaving recent ones alone; a redelivery of a pruned
 * event is still a duplicate, also for a run past Temporal's retention (the ledger row is the guard); the set-up has set
 * the namespace retention.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import type { Pool } from 'pg';
import type { Config } from '../../lib/config/config';
import { payloadDataConverter } from '../../lib/security/payload-codec';
import type { pruneData } from '../../workflows/retention';
import type { PruneTotals } from '../../contracts/retention';
import type { WebhookEvent } from '../../contracts/webhook';
import type { processWebhook } from '../../workflows/webhooks';
import {
  postStripe,
  startApi,
  startWorker,
  stripeEvent,
  testConfig,
  testPool,
  type RunningApi,
  type RunningWorker,
} from '../support/harness';
import { whenStarted } from '../support/inbox';

const run = randomUUID().slice(0, 8);
const provider = `retention-${run}`;

let pool: Pool;
let config: Config;
let worker: RunningWorker;
let api: RunningApi;
let connection: Connection;
let client: Client;

beforeAll(async () => {
  pool = testPool();
  config = testConfig();
  worker = await startWorker(config, pool);
  api = await startApi(config, pool);
  connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter: payloadDataConverter(config.PAYLOAD_ENCRYPTION_KEYS) });
});

afterAll(async () => {
  await api?.close();
  await worker?.stop();
  await connection?.close();
  await pool?.end();
});

async function acceptStripe(event: Record<string, unknown>): Promise<string> {
  const res = await postStripe(api.url, event);
  expect(res.status).toBe(202);
  const workflowId = String(res.json.workflowId);
  await (await whenStarted(client.workflow, workflowId)).result();
  return workflowId;
}

async function ledgerRow(eventId: string) {
  const { rows } = await pool.query<{ status: string; payload: unknown; payload_pruned_at: Date | null }>(
    'SELECT status, payload, payload_pruned_at FROM webhook_events WHERE tenant = $1 AND event_id = $2',
    [config.DEFAULT_TENANT, eventId],
  );
  return rows;
}

async function count(sql: string, params: unknown[]): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(sql, params);
  return Number(rows[0]!.n);
}

test('pruneData prunes old rows of every target in bounded batches; a pruned event is still a duplicate', async () => {
  const tenant = config.DEFAULT_TENANT;
  // Ledger: one real, handled Stripe event made old, three more old rows, one recent event.
  const oldEvent = stripeEvent();
  const oldWorkflowId = await acceptStripe(oldEvent);
  const recentEvent = stripeEvent();
  await acceptStripe(recentEvent);
  await pool.query(`UPDATE webhook_events SET received_at = now() - interval '60 days' WHERE tenant = $1 AND event_id = $2`, [tenant, oldEvent.id]);
  for (let i = 0; i < 3; i += 1) {
    await pool.query(
      `INSERT INTO webhook_events (tenant, provider, event_id, event_type, workflow_id, status, payload, received_at, started_at)
       VALUES ($1, 'generic', $2, 'test.old', $3, 'completed', '{"old":true}', now() - interval '45 days', now() - interval '45 days')`,
      [tenant, `old-${run}-${i}`, `webhook:${tenant}:generic:old-${run}-${i}`],
    );
  }
  // Deliveries: three old finished, one old still pending, one recent finished.
  const subscriber = `sub-${run}`;
  await pool.query(`INSERT INTO subscribers (id, tenant, url, signing_secret) VALUES ($1, $2, 'http://127.0.0.1:9/x', 'whsec_dGVzdA==')`, [
    subscriber,
    tenant,
  ]);
  const delivery = (id: string, status: string, age: string) =>
    pool.query(
      `INSERT INTO deliveries (id, tenant, subscriber_id, provider, event_id, event_type, status, created_at, updated_at)
       VALUES ($1, $2, $3, 'stripe', $1, 'test', $4, now() - $5::interval, now() - $5::interval)`,
      [`${subscriber}:${id}`, tenant, subscriber, status, age],
    );
  await delivery('old-1', 'delivered', '40 days');
  await delivery('old-2', 'dead_lettered', '40 days');
  await delivery('old-3', 'skipped', '40 days');
  await delivery('old-pending', 'pending', '40 days');
  await delivery('recent', 'delivered', '1 day');
  // Probe results: five old, one recent.
  for (let i = 0; i < 5; i += 1) {
    await pool.query(`INSERT INTO probe_results (provider, ok, status, latency_ms, at) VALUES ($1, true, 200, 5, now() - interval '20 days')`, [provider]);
  }
  await pool.query(`INSERT INTO probe_results (provider, ok, status, latency_ms, at) VALUES ($1, true, 200, 5, now() - interval '1 day')`, [provider]);
  // Cost rows: three old, one recent.
  const cost = (id: string, age: string) =>
    pool.query(
      `INSERT INTO cost_ledger (reservation, tenant, provider, operation, workflow_id, amount_usd, status, created_at)
       VALUES ($1, $2, $3, 'op', 'wf', 0.01, 'settled', now() - $4::interval)`,
      [`${provider}:${id}`, tenant, provider, age],
    );
  for (let i = 0; i < 3; i += 1) await cost(`old-${i}`, '500 days');
  await cost('recent', '10 days');

  const totals: PruneTotals = await client.workflow.execute<typeof pruneData>('pruneData', {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowId: `retention-test:${run}`,
    args: [{ batchSize: 2 }],
  });
  // Pruning is global: other leftovers may be pruned too, never fewer than ours.
  expect(totals.ledgerBodies).toBeGreaterThanOrEqual(4);
  expect(totals.deliveryAttempts).toBeGreaterThanOrEqual(3);
  expect(totals.probeResults).toBeGreaterThanOrEqual(5);
  expect(totals.costRows).toBeGreaterThanOrEqual(3);
  // Several batches ran (batch size 2, at least five probe rows).
  const history = await client.workflow.getHandle(`retention-test:${run}`).fetchHistory();
  const markers = (history.events ?? []).filter((e) => e.markerRecordedEventAttributes);
  expect(markers.length).toBeGreaterThanOrEqual(1 + 3 + 2 + 3 + 2);

  // Ledger: the old rows stay, with status and dedup key, without a body; the recent one is whole.
  const [pruned] = await ledgerRow(String(oldEvent.id));
  expect(pruned).toMatchObject({ status: 'completed', payload: null });
  expect(pruned!.payload_pruned_at).toBeInstanceOf(Date);
  expect(await count(`SELECT count(*) AS n FROM webhook_events WHERE tenant = $1 AND event_type = 'test.old' AND payload IS NULL`, [tenant])).toBe(3);
  const [recent] = await ledgerRow(String(recentEvent.id));
  expect(recent).toMatchObject({ status: 'completed', payload: expect.objectContaining({ id: recentEvent.id }) as unknown });
  // Deliveries: the old finished ones are gone; pending and recent stay.
  const { rows: deliveries } = await pool.query<{ id: string }>('SELECT id FROM deliveries WHERE subscriber_id = $1 ORDER BY id', [subscriber]);
  expect(deliveries.map((d) => d.id)).toEqual([`${subscriber}:old-pending`, `${subscriber}:recent`]);
  expect(await count('SELECT count(*) AS n FROM probe_results WHERE provider = $1', [provider])).toBe(1);
  expect(await count('SELECT count(*) AS n FROM cost_ledger WHERE provider = $1', [provider])).toBe(1);

  // The API still answers for the pruned event.
  const detail = await api.fetch(`/webhooks/events/${encodeURIComponent(oldWorkflowId)}`);
  expect(detail.status).toBe(200);
  const body = (await detail.json()) as { ledger: { payloadSummary: { pruned?: boolean } } };
  expect(body.ledger.payloadSummary.pruned).toBe(true);

  // A redelivery while Temporal still has the workflow: 200 duplicate, the same run.
  const again = await postStripe(api.url, oldEvent);
  expect(again.status).toBe(200);
  expect(again.json).toMatchObject({ workflowId: oldWorkflowId, duplicate: true });

  // Once the namespace retention has removed the workflow its id can run again: the ledger row is
  // then the guard, and the new run finds the event completed and skips its handler. (A fresh id
  // stands for the reused one: deleting a workflow is asynchronous on the server.)
  const status = await client.workflow.execute<typeof processWebhook>('processWebhook', {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowId: `${oldWorkflowId}:after-retention-${run}`,
    args: [
      {
        tenant,
        provider: 'stripe',
        eventId: String(oldEvent.id),
        eventType: String(oldEvent.type),
        receivedAt: new Date().toISOString(),
        payload: oldEvent,
      } satisfies WebhookEvent,
    ],
  });
  expect(status).toMatchObject({ status: 'completed', outcome: 'duplicate', steps: { handler: { state: 'skipped' } } });
  expect(await ledgerRow(String(oldEvent.id))).toHaveLength(1);
});

test('the set-up has set the namespace retention', async () => {
  const described = await connection.workflowService.describeNamespace({ namespace: config.TEMPORAL_NAMESPACE });
  expect(optionalTsToMs(described.config?.workflowExecutionRetentionTtl)).toBe(config.TEMPORAL_NAMESPACE_RETENTION_DAYS * 86_400_000);
});
