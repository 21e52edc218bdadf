/**
 * With no Temporal server answering, a valid webhook must get 503 (so the provider retries) and
 * never a 2xx; /readyz says not ready.
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

test('a valid webhook answers 503 with Retry-After when Temporal is unreachable', async () => {
  const res = await postStripe(api.url, stripeEvent());
  expect(res.status).toBe(503);
  expect(res.json).toMatchObject({ error: 'temporal_unavailable' });
});

test('/readyz answers 503 naming Temporal', async () => {
  const res = await api.fetch(`/readyz`);
  expect(res.status).toBe(503);
  expect(await res.json()).toMatchObject({ status: 'not_ready', checks: { temporal: { ok: false }, postgres: { ok: true } } });
});
