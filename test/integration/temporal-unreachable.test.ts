/**
 * With no Temporal server answering, a valid webhook is still accepted: 202 once its ledger row is
 * committed to the inbox, where it waits for the drainer; a duplicate is 200. /readyz stays 200
 * (`degraded`, naming Temporal) so a load balancer keeps sending webhooks we can accept.
 */
import type { Pool } from 'pg';
import { findFreePort } from '../../lib/temporal/dev-server';
import { postStripe, startApi, stripeEvent, testConfig, testPool, type RunningApi } from '../support/harness';

let pool: Pool;
let api: RunningApi;

beforeAll(async () => {
  pool = testPool();
  const deadPort = await findFreePort();
  api = await startApi(testConfig({ TEMPORAL_ADDRESS: `127.0.0.1:${deadPort}`, TEMPORAL_START_TIMEOUT_MS: 1500 }), pool);
});
afterAll(async () => {
  await api?.close();
  await pool?.end();
});

test('a valid webhook is accepted into the inbox when Temporal is unreachable; again → 200 duplicate', async () => {
  const event = stripeEvent();
  const res = await postStripe(api.url, event);
  expect(res.status).toBe(202);
  const workflowId = String(res.json.workflowId);
  expect(res.json).toEqual({ workflowId });
  const { rows } = await pool.query<{ started_at: Date | null; status: string }>('SELECT started_at, status FROM webhook_events WHERE workflow_id = $1', [workflowId]);
  expect(rows).toEqual([{ started_at: null, status: 'received' }]);
  const again = await postStripe(api.url, event);
  expect(again.status).toBe(200);
  expect(again.json).toEqual({ workflowId, duplicate: true });
  // The event's status read answers from the ledger while it waits.
  const view = await api.fetch(`/webhooks/events/${encodeURIComponent(workflowId)}`);
  expect(view.status).toBe(200);
  expect(await view.json()).toMatchObject({ workflowId, runId: null, executionStatus: 'QUEUED', status: 'received' });
  await pool.query('DELETE FROM webhook_events WHERE workflow_id = $1', [workflowId]);
});

test('/readyz answers 200 degraded, naming Temporal', async () => {
  const res = await api.fetch(`/readyz`);
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ status: 'degraded', checks: { temporal: { ok: false }, postgres: { ok: true } } });
});
