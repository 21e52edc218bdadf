/**
 * The webhook inbox's backlog is observable (issue 21, point 7): webhooks committed to the ledger
 * whose workflow is not started yet show on the API's /metrics (`webhook_inbox_unstarted`,
 * `webhook_inbox_oldest_age_seconds`) and in GET /health/detailed (`checks.inbox`), and fall back
 * once they are started; /readyz stays ready while they wait. The rows are written straight into
 * webhook_events on a task queue of this test's own, which no drainer claims. The backlog is
 * system-wide (other suites may have rows waiting meanwhile): the assertions are relative to it.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { Config } from '../../lib/config/config';
import { inboxBacklog } from '../../lib/data/webhook-inbox';
import { eventually, startApi, testConfig, testPool, type RunningApi } from '../support/harness';

const run = randomUUID().slice(0, 8);
/** Nobody polls or drains this queue. */
const taskQueue = `inbox-backlog-${run}`;
const ROWS = 3;
/**
 * How long ago the test's rows were received: ten years, older than any row another suite leaves
 * waiting (rows written straight into the ledger have no start; the retention tests' are 45 days old).
 */
const AGE_SECONDS = 3650 * 86_400;

let pool: Pool;
let config: Config;
let api: RunningApi;

beforeAll(async () => {
  pool = testPool();
  config = testConfig();
  api = await startApi(config, pool);
});

afterAll(async () => {
  await pool?.query('DELETE FROM webhook_events WHERE task_queue = $1', [taskQueue]);
  await api?.close();
  await pool?.end();
});

/** Commits ROWS waiting rows (started_at NULL) received AGE_SECONDS ago, as the API's inbox would. */
async function insertWaitingRows(): Promise<void> {
  const ids = Array.from({ length: ROWS }, (_, i) => `evt_backlog_${run}_${i}`);
  await pool.query(
    `INSERT INTO webhook_events (tenant, provider, event_id, event_type, workflow_id, status, payload, received_at, task_queue)
     SELECT $1, 'stripe', e, 'payment_intent.succeeded', 'webhook:' || $1 || ':stripe:' || e, 'received', '{}'::jsonb,
            now() - make_interval(secs => $2), $3
       FROM unnest($4::text[]) AS e`,
    [config.DEFAULT_TENANT, AGE_SECONDS, taskQueue, ids],
  );
}

/** A sample's value from the exposition text (the gauges have no labels). */
function sample(text: string, name: string): number {
  const line = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  if (!line) throw new Error(`${name} is not exposed`);
  return Number(line[1]);
}

async function gauges(): Promise<{ unstarted: number; oldest: number }> {
  const text = await api.scrapeMetrics();
  return { unstarted: sample(text, 'webhook_inbox_unstarted'), oldest: sample(text, 'webhook_inbox_oldest_age_seconds') };
}

interface InboxCheck {
  ok: boolean;
  unstarted?: number;
  oldestAgeSeconds?: number;
}

async function healthInbox(): Promise<InboxCheck> {
  const res = await api.fetch('/health/detailed');
  // 503 here: this API's task queue has no worker; the inbox is reported all the same.
  expect([200, 503]).toContain(res.status);
  return ((await res.json()) as { checks: { inbox: InboxCheck } }).checks.inbox;
}

test('the gauges, GET /health/detailed and /readyz while webhooks wait for their start, and once they are started', async () => {
  // Exposed from the first scrape, whatever waits.
  const before = await gauges();
  expect(before.unstarted).toBeGreaterThanOrEqual(0);
  expect(before.oldest).toBeGreaterThanOrEqual(0);

  await insertWaitingRows();
  expect((await inboxBacklog(pool, taskQueue)).unstarted).toBe(ROWS);

  // Read at scrape time: the next scrape counts them, and their age.
  const during = await gauges();
  expect(during.unstarted).toBeGreaterThanOrEqual(ROWS);
  expect(during.oldest).toBeGreaterThanOrEqual(AGE_SECONDS);

  const inbox = await healthInbox();
  expect(inbox.ok).toBe(true);
  expect(inbox.unstarted).toBeGreaterThanOrEqual(ROWS);
  expect(inbox.oldestAgeSeconds).toBeGreaterThanOrEqual(AGE_SECONDS);

  // Readiness does not depend on the backlog: a years-old one leaves the API ready (200) and unmentioned.
  const ready = await fetch(`${api.url}/readyz`);
  expect(ready.status).toBe(200);
  const readyBody = (await ready.json()) as { status: string; checks: Record<string, unknown> };
  expect(['ready', 'degraded']).toContain(readyBody.status);
  expect(JSON.stringify(readyBody)).not.toMatch(/inbox|backlog/i);

  // Started (as the drainer marks them): the gauges fall back to what else waits, read around the scrape.
  await pool.query('UPDATE webhook_events SET started_at = now() WHERE task_queue = $1', [taskQueue]);
  await eventually(async () => {
    const low = await inboxBacklog(pool);
    const scraped = await gauges();
    const high = await inboxBacklog(pool);
    const within = (value: number, a: number, b: number) => value >= Math.min(a, b) - 1 && value <= Math.max(a, b) + 1;
    return within(scraped.unstarted, low.unstarted, high.unstarted) && within(scraped.oldest, low.oldestAgeSeconds, high.oldestAgeSeconds) ? true : undefined;
  });
  // Nothing else is that old: the oldest age fell back below the test's rows'.
  expect((await gauges()).oldest).toBeLessThan(AGE_SECONDS);
  expect((await healthInbox()).oldestAgeSeconds).toBeLessThan(AGE_SECONDS);
});
