/**
 * The console's charts in real headless Chromium (Debian's `chromium`, driven by playwright-core)
 * against the real API, worker, Temporal dev server and PostgreSQL: rows written at known times
 * (probes, call outcomes, webhooks, costs, SLA reports) plus a real probe and a real Stripe
 * webhook. Each chart must hold exactly what the API answered the page (the last answer of its
 * route, read from the browser's own responses) and the seeded figures must be in it; each canvas
 * must have drawn pixels; every chart page holds at 420 px. Screenshots of each page at 1366 px and
 * 420 px wide go to test-artifacts/console/. Skipped, with a message, only when no Chromium is installed.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { type Browser, type Page } from 'playwright-core';
import type { Config } from '../../lib/config/config';
import { projectRoot } from '../../lib/config/paths';
import type { ProviderConfig, ProviderRegistry } from '../../lib/config/registry';
import { connectClient } from '../../lib/temporal/connection';
import type { ProbeOutcome } from '../../contracts/monitoring';
import type { healthProbe } from '../../workflows/monitoring';
import { startFakeProviders, type FakeProviders } from '../fakes/provider-server';
import { chromiumPath, describeWithChromium, ensureConsoleBuilt, launchChromium, overflowX } from '../support/console-browser';
import { eventually, fakeCredentials, postStripe, registryAt, startApi, startWorker, stripeEvent, testConfig, testPool, type RunningApi, type RunningWorker } from '../support/harness';
import { insertCallOutcome, insertCost, insertProbe, insertSlaReport, insertWebhookRow } from '../support/stats-rows';

const withChromium = describeWithChromium('the console chart tests');

const run = randomUUID().slice(0, 8);
const provider = `charts-${run}`;
const artifacts = path.join(projectRoot, 'test-artifacts', 'console');
const MIN = 60_000;
const HOUR = 3_600_000;
/** The seeded probes' and calls' hour: three hours ago, in the last 24 h the providers page shows. */
const seededHour = new Date(Math.floor((Date.now() - 3 * HOUR) / HOUR) * HOUR);
/** The SLA reports' period ends: three consecutive hours. */
const slaEnds = [2, 1, 0].map((h) => new Date(Math.floor(Date.now() / HOUR) * HOUR - h * HOUR));

let pool: Pool;
let fakes: FakeProviders;
let config: Config;
let registry: ProviderRegistry;
let worker: RunningWorker;
let api: RunningApi;
let client: Client;
let browser: Browser;
let operatorKey: string;

beforeAll(async () => {
  if (!chromiumPath) return;
  ensureConsoleBuilt();
  mkdirSync(artifacts, { recursive: true });
  pool = testPool();
  fakes = await startFakeProviders();
  config = testConfig();
  registry = registryAt(fakes.url, (r) => {
    const stripe = r.stripe!;
    for (const name of Object.keys(r)) delete r[name];
    const mine: ProviderConfig = { ...structuredClone(stripe), name: provider, budget: { dailyUsd: 50, monthlyUsd: 100 } };
    mine.probe = { ...mine.probe, intervalSeconds: 3600 };
    r[provider] = mine;
  });
  worker = await startWorker(config, pool, { registry, env: { ...fakeCredentials } });
  api = await startApi(config, pool, registry);
  client = await connectClient(config.TEMPORAL_ADDRESS, config.TEMPORAL_NAMESPACE, config.PAYLOAD_ENCRYPTION_KEYS);
  operatorKey = await api.keyFor('operator');
  browser = await launchChromium();

  // Provider health three hours ago: four good probes (100-400 ms) and a failed one; 3 of 4 calls succeeded.
  for (const [ok, latency] of [[true, 100], [true, 200], [true, 300], [true, 400], [false, 5000]] as const) await insertProbe(pool, provider, new Date(seededHour.getTime() + 10 * MIN), ok, latency);
  for (const success of [true, true, true, false]) await insertCallOutcome(pool, provider, new Date(seededHour.getTime() + 20 * MIN), success);
  // Volume in the last hour: two calls succeeded and one failed; three webhooks of this tenant (completed, failed, in flight).
  const tenMinutesAgo = new Date(Date.now() - 10 * MIN);
  for (const success of [true, true, false]) await insertCallOutcome(pool, provider, tenMinutesAgo, success);
  for (const status of ['completed', 'failed', 'received'] as const) await insertWebhookRow(pool, config.DEFAULT_TENANT, 'stripe', tenMinutesAgo, status);
  // Spend: a little 30 hours ago (the baseline), much more a minute ago (a cost anomaly).
  await insertCost(pool, config.DEFAULT_TENANT, provider, new Date(Date.now() - 30 * HOUR), 7.25);
  await insertCost(pool, config.DEFAULT_TENANT, provider, new Date(Date.now() - MIN), 12.5);
  // SLA: compliant, violated, then an hour without data.
  await insertSlaReport(pool, provider, slaEnds[0]!, { probes: 10, calls: 2, availability: 1, compliant: true });
  await insertSlaReport(pool, provider, slaEnds[1]!, { probes: 10, calls: 2, availability: 0.5, compliant: false, violations: ['availability 50.00% < 99.00%'] });
  await insertSlaReport(pool, provider, slaEnds[2]!, { probes: 0, calls: 0, availability: null, compliant: true });

  // And the real thing: a probe through its workflow, a Stripe webhook through the whole path.
  const probe = await client.workflow.execute<typeof healthProbe>('healthProbe', {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowId: `test-health-probe:${provider}:${randomUUID()}`,
    args: [{ provider }],
  });
  expect(probe).toMatchObject<Partial<ProbeOutcome>>({ ok: true });
  const event = stripeEvent('customer.created', { object: { id: `cus_${run}`, object: 'customer' } });
  expect((await postStripe(api.url, event)).status).toBe(202);
  await eventually(async () => {
    const { rows } = await pool.query<{ status: string }>('SELECT status FROM webhook_events WHERE tenant = $1 AND event_id = $2', [config.DEFAULT_TENANT, event.id]);
    return rows[0]?.status === 'completed' ? true : undefined;
  }, 30_000);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await api?.close();
  await worker?.stop();
  await client?.connection.close();
  await fakes?.close();
  await pool?.end();
});

/** A page whose API answers are recorded (route path → JSON bodies in the order the requests were made). */
interface Recorded {
  page: Page;
  answers: Map<string, Array<Promise<unknown>>>;
}

async function signedIn(hash: string): Promise<Recorded> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  const answers = new Map<string, Array<Promise<unknown>>>();
  page.on('response', (res) => {
    const url = new URL(res.url());
    if (url.origin !== api.url || res.status() !== 200 || !/^\/(stats\/|budgets$|sla$)/.test(url.pathname)) return;
    const list = answers.get(url.pathname) ?? [];
    list.push(res.json());
    answers.set(url.pathname, list);
  });
  await page.goto(`${api.url}/console/#/${hash}`);
  await page.fill('input[name=credential]', operatorKey);
  await page.click('button[type=submit]');
  await page.locator('[data-testid=who]').waitFor();
  await page.locator('[data-testid=live].on').waitFor();
  return { page, answers };
}

/** The API's last answer to the page on that route. */
async function lastAnswer<T>(recorded: Recorded, route: string): Promise<T> {
  const list = recorded.answers.get(route) ?? [];
  if (list.length === 0) throw new Error(`the page never read ${route}`);
  return (await list[list.length - 1]) as T;
}

interface Drawn {
  labels: string[];
  datasets: Array<{ label: string; data: Array<number | null> }>;
}

/** What the chart in the box holds (its canvas's data-drawn, written by the chart after each update). */
async function drawn(page: Page, box: string): Promise<Drawn> {
  const text = await page.locator(`${box} canvas`).getAttribute('data-drawn', { timeout: 10_000 });
  if (!text) throw new Error(`${box}: the chart has not drawn`);
  return JSON.parse(text) as Drawn;
}

function dataOf(chart: Drawn, label: string): Array<number | null> {
  const dataset = chart.datasets.find((d) => d.label === label);
  if (!dataset) throw new Error(`no dataset "${label}" in ${JSON.stringify(chart.datasets.map((d) => d.label))}`);
  return dataset.data;
}

/** How many of the canvas's pixels are not transparent. */
function paintedPixels(page: Page, box: string): Promise<number> {
  // A string: evaluated in the page (the test's own TypeScript has no DOM types).
  return page.evaluate<number>(`(() => {
    const canvas = document.querySelector(${JSON.stringify(`${box} canvas`)});
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
    return painted;
  })()`);
}

/**
 * The chart matches the page's last answer of `route` (re-read until it does: a stream event may
 * re-render the page with a newer answer while the test reads), then has drawn pixels.
 */
async function expectChart<T>(recorded: Recorded, route: string, box: string, check: (chart: Drawn, answer: T) => void): Promise<void> {
  await recorded.page.locator(box).waitFor();
  for (let attempt = 1; ; attempt++) {
    try {
      check(await drawn(recorded.page, box), await lastAnswer<T>(recorded, route));
      break;
    } catch (err) {
      if (attempt >= 20) throw err instanceof Error ? err : new Error(String(err));
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  expect(await paintedPixels(recorded.page, box)).toBeGreaterThan(1000);
}

/** Screenshots at 1366 px and 420 px; at 420 px nothing is wider than the screen and the chart still draws. */
async function screenshotsAtBothWidths(page: Page, name: string, box: string): Promise<void> {
  for (const width of [1366, 420]) {
    await page.setViewportSize({ width, height: 900 });
    // Chart.js resizes on the next frames (a ResizeObserver).
    await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))');
    await page.screenshot({ path: path.join(artifacts, `charts-${name}-${width}.png`), fullPage: true });
    if (width === 420) {
      expect({ page: name, overflowPx: await overflowX(page) }).toEqual({ page: name, overflowPx: 0 });
      const boxWidth = await page.evaluate<number>(`document.querySelector(${JSON.stringify(box)}).getBoundingClientRect().width`);
      expect(boxWidth).toBeLessThanOrEqual(420);
      expect(await paintedPixels(page, box)).toBeGreaterThan(1000);
    }
  }
}

interface HealthAnswer {
  buckets: string[];
  providers: Array<{ provider: string; availability: Array<number | null>; p50Ms: Array<number | null>; p95Ms: Array<number | null>; callSuccess: Array<number | null> }>;
}
interface VolumeAnswer {
  buckets: string[];
  webhooks: { received: number[]; completed: number[]; failed: number[] };
  calls: { succeeded: number[]; failed: number[] };
}
interface BudgetsAnswer {
  budgets: Array<{
    provider: string;
    projection: { spentUsd: number; projectedUsd: number; monthlyBudgetUsd: number | null };
    anomaly: { anomalous: boolean } | null;
  }>;
  projection: { monthStart: string; monthEnd: string };
}
interface SpendAnswer {
  buckets: string[];
  providers: Array<{ provider: string; usd: number[] }>;
}
interface SlaAnswer {
  reports: Array<{ provider: string; periodEnd: string }>;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

withChromium('console charts in headless Chromium', () => {
  test('providers: each card charts its probe latency p50/p95, availability and call success as GET /stats/health answered', async () => {
    const recorded = await signedIn('providers?range=24h');
    const box = `figure[data-chart=health][data-provider="${provider}"]`;
    try {
      await expectChart<HealthAnswer>(recorded, '/stats/health', box, (chart, answer) => {
        const mine = answer.providers.find((p) => p.provider === provider)!;
        expect(chart.labels).toHaveLength(answer.buckets.length);
        expect(dataOf(chart, 'p50 ms')).toEqual(mine.p50Ms);
        expect(dataOf(chart, 'p95 ms')).toEqual(mine.p95Ms);
        expect(dataOf(chart, 'probes up')).toEqual(mine.availability);
        expect(dataOf(chart, 'calls ok')).toEqual(mine.callSuccess);
        // The seeded hour: p50 200 ms, p95 400 ms (nearest rank of the good probes), 4 of 5 probes up, 3 of 4 calls.
        const i = answer.buckets.indexOf(seededHour.toISOString());
        expect(i).toBeGreaterThanOrEqual(0);
        expect([dataOf(chart, 'p50 ms')[i], dataOf(chart, 'p95 ms')[i], dataOf(chart, 'probes up')[i], dataOf(chart, 'calls ok')[i]]).toEqual([200, 400, 0.8, 0.75]);
        // The real probe: the last hour's bucket has a latency.
        expect(dataOf(chart, 'probes up').at(-1)).toBe(1);
      });
      await screenshotsAtBothWidths(recorded.page, 'providers', box);
    } finally {
      await recorded.page.context().close();
    }
  });

  test('volume: webhooks and calls per minute, succeeded and failed, as GET /stats/volume answered', async () => {
    const recorded = await signedIn('volume?range=1h');
    try {
      await expectChart<VolumeAnswer>(recorded, '/stats/volume', 'figure[data-chart=webhooks]', (chart, answer) => {
        expect(chart.labels).toHaveLength(answer.buckets.length);
        expect(dataOf(chart, 'completed')).toEqual(answer.webhooks.completed);
        expect(dataOf(chart, 'failed')).toEqual(answer.webhooks.failed);
        expect(dataOf(chart, 'in flight')).toEqual(answer.webhooks.received.map((n, i) => n - answer.webhooks.completed[i]! - answer.webhooks.failed[i]!));
        // This run's tenant: the three seeded webhooks and the real one, completed.
        expect([sum(answer.webhooks.received), sum(answer.webhooks.completed), sum(answer.webhooks.failed)]).toEqual([4, 2, 1]);
      });
      await expectChart<VolumeAnswer>(recorded, '/stats/volume', 'figure[data-chart=calls]', (chart, answer) => {
        expect(dataOf(chart, 'succeeded')).toEqual(answer.calls.succeeded);
        expect(dataOf(chart, 'failed')).toEqual(answer.calls.failed);
        // Every tenant's calls: at least the seeded ones.
        expect(sum(answer.calls.succeeded)).toBeGreaterThanOrEqual(2);
        expect(sum(answer.calls.failed)).toBeGreaterThanOrEqual(1);
      });
      await screenshotsAtBothWidths(recorded.page, 'volume', 'figure[data-chart=webhooks]');
    } finally {
      await recorded.page.context().close();
    }
  });

  test('budgets: spend this month against the budget, with the projection and the anomaly marked, as GET /budgets and /stats/spend answered', async () => {
    const recorded = await signedIn('budgets');
    const box = `figure[data-chart=spend][data-provider="${provider}"]`;
    try {
      await expectChart<SpendAnswer>(recorded, '/stats/spend', box, (chart, spend) => {
        const daily = spend.providers.find((p) => p.provider === provider)!.usd;
        const cumulative = daily.map((_, i) => Math.round(sum(daily.slice(0, i + 1)) * 1e6) / 1e6);
        const spent = dataOf(chart, 'spent');
        expect(spent.slice(0, daily.length)).toEqual(cumulative);
        expect(spent.slice(daily.length).every((v) => v === null)).toBe(true);
        expect(chart.labels).toHaveLength(spent.length);
      });
      const budgets = await lastAnswer<BudgetsAnswer>(recorded, '/budgets');
      const mine = budgets.budgets.find((b) => b.provider === provider)!;
      const chart = await drawn(recorded.page, box);
      const spent = dataOf(chart, 'spent');
      const today = spent.filter((v) => v !== null).length - 1;
      // Spend so far = the API's month-to-date spend (19.75 unless the month began less than 30 hours ago).
      expect(spent[today]).toBe(mine.projection.spentUsd);
      expect(mine.projection.spentUsd === 19.75 || mine.projection.spentUsd === 12.5).toBe(true);
      // The projection runs from today's total to the API's month-end projection.
      const projection = dataOf(chart, 'projection');
      expect(projection[today]).toBe(mine.projection.spentUsd);
      expect(projection.at(-1)).toBe(mine.projection.projectedUsd);
      expect(projection.slice(0, today).every((v) => v === null)).toBe(true);
      expect(dataOf(chart, 'monthly budget').every((v) => v === 100)).toBe(true);
      expect(mine.projection.monthlyBudgetUsd).toBe(100);
      // 12.5 USD in the last hour against a baseline of 7.25 over 30 hours: the anomaly rule fires, and the chart marks it on today.
      expect(mine.anomaly?.anomalous).toBe(true);
      expect(dataOf(chart, 'cost anomaly')).toEqual(spent.map((v, i) => (i === today ? v : null)));
      await expect(recorded.page.locator(`${box} .chart-note`).textContent()).resolves.toContain('Cost anomaly');
      await screenshotsAtBothWidths(recorded.page, 'budgets', box);
    } finally {
      await recorded.page.context().close();
    }
  });

  test('SLA: compliance over time, one bar per period, as GET /sla answered', async () => {
    const recorded = await signedIn(`sla?window=hourly&provider=${provider}`);
    try {
      await expectChart<SlaAnswer>(recorded, '/sla', 'figure[data-chart=compliance]', (chart, answer) => {
        const ends = [...new Set(answer.reports.map((r) => r.periodEnd))].sort();
        expect(ends).toEqual(slaEnds.map((d) => d.toISOString()));
        expect(chart.labels).toHaveLength(3);
        // Compliant, violated, no data (no bar).
        expect(dataOf(chart, 'compliant share')).toEqual([1, 0, null]);
        expect(dataOf(chart, 'violated share')).toEqual([0, 1, null]);
      });
      await screenshotsAtBothWidths(recorded.page, 'sla', 'figure[data-chart=compliance]');
    } finally {
      await recorded.page.context().close();
    }
  });
});
