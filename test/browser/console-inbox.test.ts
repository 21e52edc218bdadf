/**
 * The console's webhook inbox indicator in real headless Chromium against the real API, Temporal
 * dev server and PostgreSQL: on the Providers page (where operators land), webhooks waiting for
 * their workflow start show with the oldest one's wait, as a warning past 60 s and critical past
 * 300 s, and the indicator follows the inbox as it drains without a reload. GET /health/detailed
 * answers 503 here (no worker polls this API's task queue): the indicator reads it all the same.
 * Rows are written straight into webhook_events on a task queue no drainer claims; the backlog is
 * system-wide, so the assertions allow for other suites' rows. Screenshots go to
 * test-artifacts/console/ (inbox-warn and inbox-critical, at 1366 px and 420 px wide).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Pool } from 'pg';
import type { Browser, Page } from 'playwright-core';
import type { Config } from '../../lib/config/config';
import { projectRoot } from '../../lib/config/paths';
import { chromiumPath, describeWithChromium, ensureConsoleBuilt, launchChromium, overflowX } from '../support/console-browser';
import { eventually, startApi, testConfig, testPool, type RunningApi } from '../support/harness';

const withChromium = describeWithChromium('the console inbox indicator tests');

const run = randomUUID().slice(0, 8);
const taskQueue = `console-inbox-${run}`;
const ROWS = 4;
/** Ten years: older than any row another suite writes (the retention tests' are 45 days old). */
const OLDER_THAN_ANY_SECONDS = 3650 * 86_400;
const artifacts = path.join(projectRoot, 'test-artifacts', 'console');

let pool: Pool;
let config: Config;
let api: RunningApi;
let browser: Browser;

beforeAll(async () => {
  if (!chromiumPath) return;
  ensureConsoleBuilt();
  mkdirSync(artifacts, { recursive: true });
  pool = testPool();
  config = testConfig();
  api = await startApi(config, pool);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await pool?.query('DELETE FROM webhook_events WHERE task_queue = $1', [taskQueue]);
  await browser?.close();
  await api?.close();
  await pool?.end();
});

/** ROWS waiting rows (started_at NULL) of the test's task queue, received `ageSeconds` ago. */
async function waiting(ageSeconds: number): Promise<void> {
  await pool.query('DELETE FROM webhook_events WHERE task_queue = $1', [taskQueue]);
  const ids = Array.from({ length: ROWS }, (_, i) => `evt_console_inbox_${run}_${i}`);
  await pool.query(
    `INSERT INTO webhook_events (tenant, provider, event_id, event_type, workflow_id, status, payload, received_at, task_queue)
     SELECT $1, 'stripe', e, 'payment_intent.succeeded', 'webhook:' || $1 || ':stripe:' || e, 'received', '{}'::jsonb,
            now() - make_interval(secs => $2), $3
       FROM unnest($4::text[]) AS e`,
    [config.DEFAULT_TENANT, ageSeconds, taskQueue, ids],
  );
}

/**
 * The indicator once it has read the inbox, its attributes and text taken in one look. The page
 * renders again when its live stream connects and on each event of its topic (other suites'
 * provider events, when jest runs suites side by side), and each render makes a new indicator that
 * starts at `reading`: read one attribute at a time after a wait, as before, a later read could
 * come from the new element (seen under load: `reading` right after the wait for another state).
 */
async function indicator(page: Page): Promise<{ state: string; unstarted: number; oldest: number; text: string }> {
  const now = await eventually(async () => {
    // A string: evaluated in the page (the test's own TypeScript has no DOM types; the console's CSP
    // refuses page.waitForFunction's string eval, not page.evaluate).
    const read = await page.evaluate<{ state: string; unstarted?: string; oldest?: string; text: string | null } | null>(`(() => {
      const el = document.querySelector('[data-testid=inbox]');
      return el && { state: el.dataset.state, unstarted: el.dataset.unstarted, oldest: el.dataset.oldestSeconds, text: el.textContent };
    })()`);
    return read && read.state !== 'reading' ? read : undefined;
  }, 30_000);
  return { state: now.state, unstarted: Number(now.unstarted), oldest: Number(now.oldest), text: now.text ?? '' };
}

async function screenshotsAtBothWidths(page: Page, name: string): Promise<void> {
  for (const width of [1366, 420]) {
    await page.setViewportSize({ width, height: 700 });
    await page.evaluate('new Promise((resolve) => requestAnimationFrame(resolve))');
    await page.screenshot({ path: path.join(artifacts, `${name}-${width}.png`), fullPage: true });
    if (width === 420) expect({ page: name, overflowPx: await overflowX(page) }).toEqual({ page: name, overflowPx: 0 });
  }
}

withChromium('console inbox indicator in headless Chromium', () => {
  test('waiting webhooks show on the Providers page: a warning past 60 s, critical past 300 s, and gone once started, without a reload', async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 700 } });
    try {
      const page = await context.newPage();
      await waiting(90);
      await page.goto(`${api.url}/console/#/providers`);
      await page.fill('input[name=credential]', await api.keyFor('operator'));
      await page.click('button[type=submit]');
      await page.locator('[data-testid=who]').waitFor();

      const warn = await indicator(page);
      // Past 60 s: a warning (critical if another suite left an older row waiting).
      expect(['warn', 'critical']).toContain(warn.state);
      expect(warn.unstarted).toBeGreaterThanOrEqual(ROWS);
      expect(warn.oldest).toBeGreaterThanOrEqual(90);
      expect(warn.text).toMatch(/^Webhook inbox: \d+ waiting for their workflow start · oldest \d+ (min|h|d)( \d+ (s|min|h))? \(are the workers running\?\)$/);
      if (warn.state === 'warn') await screenshotsAtBothWidths(page, 'inbox-warn');

      await waiting(600);
      await page.reload();
      const critical = await indicator(page);
      expect(critical.state).toBe('critical');
      expect(critical.oldest).toBeGreaterThanOrEqual(600);
      if (critical.oldest < 660) expect(critical.text).toContain('oldest 10 min');
      await screenshotsAtBothWidths(page, 'inbox-critical');

      // Other suites' rows wait too (rows written straight into the ledger have no start): the
      // test's own are made older than any of theirs, so that their start shows.
      await waiting(OLDER_THAN_ANY_SECONDS);
      await page.reload();
      expect((await indicator(page)).oldest).toBeGreaterThanOrEqual(OLDER_THAN_ANY_SECONDS);
      // Started, as the drainer marks them: the indicator follows on its next read, no reload.
      let loads = 0;
      page.on('load', () => loads++);
      await pool.query('UPDATE webhook_events SET started_at = now() WHERE task_queue = $1', [taskQueue]);
      const drained = await eventually(async () => {
        const now = await indicator(page);
        return now.oldest < OLDER_THAN_ANY_SECONDS ? now : undefined;
      }, 25_000);
      expect(drained.state).not.toBe('reading');
      expect(loads).toBe(0);
    } finally {
      await context.close();
    }
  }, 90_000);
});
