/**
 * The operator console in real headless Chromium (Debian's `chromium`, driven by playwright-core)
 * against the real API, worker, Temporal dev server and PostgreSQL, with the fake providers:
 * a provider going down turns its card unhealthy and raises an alert without a reload, and Ack
 * stops the escalation; a dead-lettered delivery is replayed from the console and shows delivered;
 * an operator of one tenant never sees another tenant's rows; SLA reports without data say so;
 * events page with a total; deliveries open on the problems with counts and next attempt times; a
 * 429 is shown and waited out; "live" is withdrawn when the stream goes silent; every page holds at
 * 420 px. Screenshots go to test-artifacts/console/ (the new ones at 1366 px and 420 px wide).
 * Skipped, with a message, only when no Chromium is installed.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { SMTPServer } from 'smtp-server';
import type { Config } from '../../lib/config/config';
import { connectClient } from '../../lib/temporal/connection';
import { projectRoot } from '../../lib/config/paths';
import type { ProviderConfig, ProviderRegistry } from '../../lib/config/registry';
import { alertStatusQuery, alertWorkflowId, type ProbeOutcome } from '../../contracts/monitoring';
import { deliveryWorkflowId, type DeliveryInput } from '../../contracts/delivery';
import type { healthProbe } from '../../workflows/monitoring';
import { startFakeProviders, type FakeProviders } from '../fakes/provider-server';
import { chromiumPath, describeWithChromium, ensureConsoleBuilt, launchChromium, overflowX } from '../support/console-browser';
import { eventually, fakeCredentials, postStripe, registryAt, startApi, startWorker, stripeEvent, testConfig, testPool, type RunningApi, type RunningWorker } from '../support/harness';

const withChromium = describeWithChromium('the console browser tests');

const run = randomUUID().slice(0, 8);
const provider = `console-${run}`;
const ESCALATION_MS = 3000;
const artifacts = path.join(projectRoot, 'test-artifacts', 'console');

let pool: Pool;
let fakes: FakeProviders;
let config: Config;
let registry: ProviderRegistry;
let worker: RunningWorker;
let api: RunningApi;
let client: Client;
let browser: Browser;
let sink: Server;
let smtp: SMTPServer;
const mails: string[] = [];
/** What the subscriber endpoint answers (503 until the test lets it succeed). */
let subscriberAnswer = 503;
let subscriberServer: Server;

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

beforeAll(async () => {
  if (!chromiumPath) return;
  ensureConsoleBuilt();
  mkdirSync(artifacts, { recursive: true });
  pool = testPool();
  fakes = await startFakeProviders();
  sink = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200).end('ok'));
  });
  const sinkUrl = await listen(sink);
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      let raw = '';
      stream.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      stream.on('end', () => {
        mails.push(raw);
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
  // smtp-server's typings do not expose its net.Server; it is there at runtime.
  const smtpPort = ((smtp as unknown as { server: Server }).server.address() as AddressInfo).port;
  subscriberServer = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(subscriberAnswer).end());
  });
  await listen(subscriberServer);
  config = testConfig();
  registry = registryAt(fakes.url, (r) => {
    const stripe = r.stripe!;
    for (const name of Object.keys(r)) delete r[name];
    const mine: ProviderConfig = { ...structuredClone(stripe), name: provider, circuit: { ...stripe.circuit, failureThreshold: 2, coolDownSeconds: 1, successThreshold: 1 } };
    mine.probe = { ...mine.probe, intervalSeconds: 3600 };
    r[provider] = mine;
  });
  worker = await startWorker(config, pool, {
    registry,
    deliveryRetrySchedule: ['300 ms', '300 ms'],
    env: {
      ...fakeCredentials,
      ALERT_WEBHOOK_URL: `${sinkUrl}/alerts`,
      ALERT_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      ALERT_EMAIL_TO: 'oncall@example.test',
      ALERT_ESCALATION_HIGH: `${ESCALATION_MS}ms`,
      ALERT_ESCALATION_MEDIUM: `${ESCALATION_MS}ms`,
      HEALTH_DEGRADED_BELOW: '0.3',
    },
  });
  api = await startApi(config, pool, registry);
  client = await connectClient(config.TEMPORAL_ADDRESS, config.TEMPORAL_NAMESPACE, config.PAYLOAD_ENCRYPTION_KEYS);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await api?.close();
  await worker?.stop();
  await client?.connection.close();
  await fakes?.close();
  for (const server of [sink, subscriberServer]) if (server) await new Promise((resolve) => server.close(resolve));
  await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
  await pool?.end();
});

function probe(): Promise<ProbeOutcome> {
  return client.workflow.execute<typeof healthProbe>('healthProbe', {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowId: `test-health-probe:${provider}:${randomUUID()}`,
    args: [{ provider }],
  });
}

/** A new tab signed in with `credential` at `#/<hash>`, its live stream open. */
async function signedIn(context: BrowserContext, credential: string, hash: string, live = true): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${api.url}/console/#/${hash}`);
  await page.fill('input[name=credential]', credential);
  await page.click('button[type=submit]');
  await page.locator('[data-testid=who]').waitFor();
  if (live) await page.locator('[data-testid=live].on').waitFor();
  return page;
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

/**
 * Screenshots of the page at 1366 px and 420 px wide (`<name>-1366.png`, `<name>-420.png`); at 420 px
 * the page must not be wider than the screen (wide tables scroll inside their own box).
 */
async function screenshotsAtBothWidths(page: Page, name: string): Promise<void> {
  for (const width of [1366, 420]) {
    await page.setViewportSize({ width, height: 900 });
    await page.evaluate('new Promise((resolve) => requestAnimationFrame(resolve))');
    await screenshot(page, `${name}-${width}`);
    if (width === 420) expect({ page: name, overflowPx: await overflowX(page) }).toEqual({ page: name, overflowPx: 0 });
  }
}

withChromium('console in headless Chromium', () => {
  test('a provider goes down: its card turns unhealthy and an alert appears without a reload; Ack stops escalation', async () => {
    const alertId = alertWorkflowId('provider-down', provider);
    expect(await probe()).toMatchObject({ ok: true, providerStatus: 'up' });
    const operator = await api.keyFor('operator');
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const providers = await signedIn(context, operator, 'providers');
      const card = providers.locator(`[data-provider="${provider}"]`);
      await card.and(providers.locator('[data-status=up]')).waitFor();
      const alerts = await signedIn(context, operator, 'alerts');
      let reloads = 0;
      for (const p of [providers, alerts]) p.on('load', () => reloads++);

      fakes.addFault({ provider: 'stripe', operation: 'probe', kind: 'status', status: 503 });
      expect(await probe()).toMatchObject({ ok: false, providerStatus: 'down' });

      await providers.locator(`[data-provider="${provider}"].unhealthy[data-status=down]`).waitFor({ timeout: 15_000 });
      await screenshot(providers, 'providers');
      const row = alerts.locator(`tr[data-alert-id="${alertId}"]`);
      await row.and(alerts.locator('[data-state=firing]')).waitFor({ timeout: 15_000 });
      expect(reloads).toBe(0);

      await row.locator('button[data-action=ack]').click();
      await alerts.locator(`tr[data-alert-id="${alertId}"][data-state=acknowledged]`).waitFor({ timeout: 15_000 });
      await screenshot(alerts, 'alerts');
      const acked = await client.workflow.getHandle(alertId).query(alertStatusQuery);
      expect(acked.state).toBe('acknowledged');
      expect(acked.acknowledgedBy).toMatch(/^console:/);
      // High's row: email at once beside the webhook. Longer than the escalation wait: nothing more after the ack.
      await eventually(() => Promise.resolve(mails.some((m) => m.includes(alertId)) || undefined));
      await new Promise((resolve) => setTimeout(resolve, ESCALATION_MS + 1500));
      const later = await client.workflow.getHandle(alertId).query(alertStatusQuery);
      expect(later.escalationLevel).toBe(acked.acknowledgedAtLevel);
      expect(later.notifications.length).toBe(acked.notifications.length);
      expect(mails.filter((m) => m.includes(alertId))).toHaveLength(1);
      expect(reloads).toBe(0);

      // Recovery resolves the alert (leaves no open alert behind for other suites).
      fakes.clearFaults();
      expect(await probe()).toMatchObject({ ok: true, providerStatus: 'up' });
      await client.workflow.getHandle(alertId).result();
      await providers.locator(`[data-provider="${provider}"].healthy`).waitFor({ timeout: 15_000 });
    } finally {
      fakes.clearFaults();
      await context.close();
    }
  });

  test('a dead-lettered delivery is replayed from the console and shows delivered', async () => {
    subscriberAnswer = 503;
    const created = await api.fetch('/subscribers', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: `http://127.0.0.1:${(subscriberServer.address() as AddressInfo).port}/hook`, eventTypes: ['customer.*'] }),
    });
    expect(created.status).toBe(201);
    const subscriberId = ((await created.json()) as { id: string }).id;
    const event = stripeEvent('customer.created', { object: { id: `cus_${run}`, object: 'customer' } });
    expect((await postStripe(api.url, event)).status).toBe(202);
    const dead = await eventually(async () => {
      const { deliveries } = (await (await api.fetch(`/deliveries?subscriber=${subscriberId}`)).json()) as { deliveries: Array<{ id: string; status: string }> };
      return deliveries.find((d) => d.status === 'dead_lettered');
    }, 30_000);

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const page = await signedIn(context, await api.keyFor('operator'), 'deliveries');
      const row = page.locator(`tr[data-delivery-id="${dead.id}"]`);
      await row.and(page.locator('[data-status=dead_lettered]')).waitFor();
      subscriberAnswer = 200;
      await row.locator('button[data-action=replay]').click();
      await page.locator(`tr[data-delivery-id="${dead.id}"][data-status=delivered]`).waitFor({ timeout: 20_000 });
      await screenshot(page, 'deliveries');

      // The event's detail: its steps, the delivery, and a link into the Temporal Web UI.
      const workflowId = `webhook:${config.DEFAULT_TENANT}:stripe:${String(event.id)}`;
      await page.goto(`${api.url}/console/#/events/${encodeURIComponent(workflowId)}`);
      await page.locator(`tr[data-delivery-id="${dead.id}"]`).waitFor();
      const href = await page.locator('a.temporal-link').first().getAttribute('href');
      expect(href).toBe(`${config.TEMPORAL_UI_URL}/namespaces/${config.TEMPORAL_NAMESPACE}/workflows/${encodeURIComponent(workflowId)}`);
      await screenshot(page, 'event-detail');
    } finally {
      await context.close();
    }
  });

  test("an operator of tenant A never sees tenant B's rows; each role sees only its pages", async () => {
    const tenantA = config.DEFAULT_TENANT;
    const tenantB = `b${run}`;
    const insert = (tenant: string, eventId: string) =>
      pool.query(
        `INSERT INTO webhook_events (tenant, provider, event_id, event_type, workflow_id, status, payload, received_at, started_at)
         VALUES ($1, 'stripe', $2, 'invoice.paid', $3, 'failed', '{}', now(), now())`,
        [tenant, eventId, `webhook:${tenant}:stripe:${eventId}`],
      );
    await insert(tenantA, `evt_a_${run}`);
    await insert(tenantB, `evt_b_${run}`);
    // A provider call in each tenant.
    for (const prefix of ['', `/tenants/${tenantB}`]) {
      const res = await api.fetch(`${prefix}/calls/${provider}/createPaymentIntent?wait=5000`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `console-${run}` },
        body: JSON.stringify({ params: { amount: 1200, currency: 'usd' } }),
      });
      expect(res.status).toBe(200);
    }
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const page = await signedIn(context, await api.keyFor('operator', tenantA), 'events');
      await page.locator(`tr[data-workflow-id="webhook:${tenantA}:stripe:evt_a_${run}"]`).waitFor();
      expect(await page.locator(`tr[data-workflow-id*="${tenantB}"]`).count()).toBe(0);
      expect(await page.content()).not.toContain(tenantB);
      await screenshot(page, 'events');

      // Another tenant's event by its id: the API answers 404, and the console shows nothing of it.
      await page.goto(`${api.url}/console/#/events/${encodeURIComponent(`webhook:${tenantB}:stripe:evt_b_${run}`)}`);
      await page.locator('main .error').waitFor();
      expect(await page.locator('main .error').textContent()).toContain('not_found');

      await page.goto(`${api.url}/console/#/calls`);
      await page.locator(`tr[data-workflow-id="call:${tenantA}:${provider}:console-${run}"]`).waitFor({ timeout: 15_000 });
      expect(await page.locator(`tr[data-workflow-id*="${tenantB}"]`).count()).toBe(0);
      await screenshot(page, 'calls');
      await page.locator(`tr[data-workflow-id="call:${tenantA}:${provider}:console-${run}"] a`).click();
      await page.locator('main .detail table').first().waitFor();
      await screenshot(page, 'call-detail');

      for (const name of ['budgets', 'sla', 'providers']) {
        await page.goto(`${api.url}/console/#/${name}`);
        await page.locator('main section h2').waitFor();
        if (name !== 'providers') await screenshot(page, name);
      }
      // An operator has no Replay for nothing dead, but has the Retry of a failed event; a service
      // key sees only provider calls (its role's pages), with no stream.
      const service = await signedIn(context, await api.keyFor('service', tenantA), 'calls', false);
      const nav = await service.locator('header nav a').allTextContents();
      expect(nav).toEqual(['Provider calls']);
      expect(await service.locator('[data-testid=live]').textContent()).toContain('no live stream');
      await screenshot(service, 'service-role');
    } finally {
      await context.close();
      await pool.query('DELETE FROM webhook_events WHERE event_id IN ($1, $2)', [`evt_a_${run}`, `evt_b_${run}`]);
    }
  });

  test('SLA: reports without probes or calls show "no data", never compliant', async () => {
    const insert = (hoursAgo: number, probes: number, compliant: boolean) =>
      pool.query(
        `INSERT INTO sla_reports (provider, time_window, period_start, period_end, probes, calls, availability, p95_ms, error_rate, target, violations, compliant)
         VALUES ($1, 'hourly', date_trunc('hour', now()) - make_interval(hours => $2 + 1), date_trunc('hour', now()) - make_interval(hours => $2),
                 $3, 0, CASE WHEN $3 > 0 THEN 1.0 END, CASE WHEN $3 > 0 THEN 120 END, NULL, '{"availability":0.999,"p95Ms":2000,"errorRate":0.01}', '[]', $4)`,
        [provider, hoursAgo, probes, compliant],
      );
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    try {
      for (const hoursAgo of [1, 2, 3]) await insert(hoursAgo, 0, true);
      const page = await signedIn(context, await api.keyFor('operator'), `sla?window=hourly&provider=${provider}`);
      const summary = page.locator('[data-testid=sla-summary]');
      await summary.waitFor();
      expect(await summary.textContent()).toBe('no data: none of the 3 reports had a probe or a call');
      expect(await page.locator('tr[data-compliance=no_data]').count()).toBe(3);
      expect(await page.locator('tr[data-compliance=compliant]').count()).toBe(0);
      await screenshotsAtBothWidths(page, 'sla-no-data');

      // One report with data: the ratio counts it alone, the others stay "no data".
      await insert(4, 120, true);
      await page.reload();
      await page.locator('tr[data-compliance=compliant]').waitFor();
      expect(await summary.textContent()).toBe('1 of 1 reports compliant (100.0%); 3 without data');
    } finally {
      await context.close();
      await pool.query('DELETE FROM sla_reports WHERE provider = $1', [provider]);
    }
  });

  test('events paginate with a total: 50 a page, Next and Previous, the count of every match', async () => {
    const type = `page.test.${run}`;
    await pool.query(
      `INSERT INTO webhook_events (tenant, provider, event_id, event_type, workflow_id, status, payload, received_at, started_at)
       SELECT $1, 'stripe', 'evt_page_' || $2 || '_' || i, $3, 'webhook:' || $1 || ':stripe:evt_page_' || $2 || '_' || i, 'completed', '{}', now() - make_interval(secs => i), now()
         FROM generate_series(1, 61) AS i`,
      [config.DEFAULT_TENANT, run, type],
    );
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    try {
      const page = await signedIn(context, await api.keyFor('operator'), `events?type=${type}`);
      const range = page.locator('[data-testid=range]');
      await page.locator('tr[data-workflow-id]').first().waitFor();
      expect(await range.textContent()).toBe('1–50 of 61');
      expect(await page.locator('tr[data-workflow-id]').count()).toBe(50);
      // Newest first: evt_page_1 was received last.
      expect(await page.locator('tr[data-workflow-id]').first().getAttribute('data-workflow-id')).toBe(`webhook:${config.DEFAULT_TENANT}:stripe:evt_page_${run}_1`);
      await screenshotsAtBothWidths(page, 'events-paged');
      await page.click('button[data-action=next]');
      await page.locator('[data-testid=range]', { hasText: '51–61 of 61' }).waitFor();
      expect(await page.locator('tr[data-workflow-id]').count()).toBe(11);
      expect(await page.locator('button[data-action=next]').isDisabled()).toBe(true);
      await page.click('button[data-action=previous]');
      await page.locator('[data-testid=range]', { hasText: '1–50 of 61' }).waitFor();
      // The API's own answer: total and offset.
      const second = (await (await api.fetch(`/webhooks/events?type=${type}&limit=50&offset=50`)).json()) as { events: unknown[]; total: number };
      expect({ rows: second.events.length, total: second.total }).toEqual({ rows: 11, total: 61 });
    } finally {
      await context.close();
      await pool.query('DELETE FROM webhook_events WHERE event_type = $1', [type]);
    }
  });

  test('deliveries open on the problem states, with a count per state and a retrying delivery\'s next attempt time', async () => {
    subscriberAnswer = 503;
    const created = await api.fetch('/subscribers', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: `http://127.0.0.1:${(subscriberServer.address() as AddressInfo).port}/retry`, eventTypes: [`never.${run}`] }),
    });
    expect(created.status).toBe(201);
    const subscriberId = ((await created.json()) as { id: string }).id;
    // A worker of its own whose retry schedule waits an hour: the delivery stays retrying.
    const slowConfig = { ...config, TEMPORAL_TASK_QUEUE: `${config.TEMPORAL_TASK_QUEUE}-slow` };
    const slow = await startWorker(slowConfig, pool, { registry, deliveryRetrySchedule: ['1 hour'], env: fakeCredentials });
    const eventId = `evt_retry_${run}`;
    await pool.query(
      `INSERT INTO webhook_events (tenant, provider, event_id, event_type, workflow_id, status, payload, received_at, started_at)
       VALUES ($1, 'stripe', $2, $3, $4, 'completed', '{}', now(), now())`,
      [config.DEFAULT_TENANT, eventId, `never.${run}`, `webhook:${config.DEFAULT_TENANT}:stripe:${eventId}`],
    );
    const input: DeliveryInput = { deliveryId: deliveryWorkflowId(subscriberId, 'stripe', eventId), tenant: config.DEFAULT_TENANT, subscriberId, provider: 'stripe', eventId, eventType: `never.${run}` };
    const handle = await client.workflow.start('deliverEvent', { taskQueue: slowConfig.TEMPORAL_TASK_QUEUE, workflowId: input.deliveryId, args: [input] });
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    try {
      const answer = await eventually(async () => {
        const list = (await (await api.fetch(`/deliveries?subscriber=${subscriberId}`)).json()) as {
          deliveries: Array<{ id: string; status: string; attempts: number; nextAttemptAt?: string | null }>;
          counts: Record<string, number>;
          total: number;
        };
        const mine = list.deliveries.find((d) => d.id === input.deliveryId);
        if (!mine || mine.attempts < 1 || !mine.nextAttemptAt) throw new Error(`not retrying yet: ${JSON.stringify(mine ?? list)}`);
        return { list, mine };
      }, 20_000);
      const due = Date.parse(answer.mine.nextAttemptAt!);
      expect(due).toBeGreaterThan(Date.now() + 50 * 60_000);
      expect(due).toBeLessThan(Date.now() + 61 * 60_000);
      expect(answer.list.counts).toEqual({ pending: 0, retrying: 1, delivered: 0, dead_lettered: 0, skipped: 0 });
      expect(answer.list.total).toBe(1);

      // The page opens on the problems: no status chosen in the address.
      const page = await signedIn(context, await api.keyFor('operator'), 'deliveries');
      const row = page.locator(`tr[data-delivery-id="${input.deliveryId}"][data-state=retrying]`);
      await row.waitFor();
      expect(await page.locator('select[aria-label=status]').inputValue()).toBe('problem');
      expect(await page.locator('tr[data-status=delivered], tr[data-status=skipped]').count()).toBe(0);
      expect(await row.locator('[data-testid=next-attempt]').textContent()).toBe(await page.evaluate<string>(`new Date(${JSON.stringify(answer.mine.nextAttemptAt)}).toLocaleString()`));
      // One count per state, as the API counts them for the tenant.
      const all = (await (await api.fetch('/deliveries')).json()) as { counts: Record<string, number> };
      for (const [state, n] of Object.entries(all.counts)) {
        expect({ state, shown: await page.locator(`[data-count=${state}] strong`).textContent() }).toEqual({ state, shown: String(n) });
      }
      expect(all.counts.retrying).toBeGreaterThanOrEqual(1);
      await screenshotsAtBothWidths(page, 'deliveries-problems');
    } finally {
      await context.close();
      await handle.terminate('test over').catch(() => undefined);
      await slow.stop();
      await pool.query('DELETE FROM subscribers WHERE id = $1', [subscriberId]);
      await pool.query('DELETE FROM webhook_events WHERE event_id = $1', [eventId]);
    }
  });

  test('a 429 shows as such and the page is read again after Retry-After; the stream waits it out and "live" shows only once updates arrive', async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    try {
      const page = await context.newPage();
      const asked: number[] = [];
      let refuse = true;
      await page.route(/\/webhooks\/events\?/, async (route) => {
        asked.push(Date.now());
        if (asked.length === 1) {
          await route.fulfill({ status: 429, headers: { 'retry-after': '2', 'content-type': 'application/json' }, body: JSON.stringify({ error: 'rate_limited', reason: 'more than 1 requests a minute for this credential' }) });
        } else {
          await route.fallback();
        }
      });
      await page.route(/\/stream$/, async (route) => {
        if (refuse) await route.fulfill({ status: 429, headers: { 'retry-after': '3', 'content-type': 'application/json' }, body: '{"error":"rate_limited","reason":"slow down"}' });
        else await route.fallback();
      });
      await page.goto(`${api.url}/console/#/events`);
      await page.fill('input[name=credential]', await api.keyFor('operator'));
      await page.click('button[type=submit]');
      const message = page.locator('[data-testid=rate-limited]');
      await message.waitFor();
      expect(await message.textContent()).toContain('Rate limited (429)');
      expect(await message.textContent()).toContain('wait 2 s');
      const badge = page.locator('[data-testid=live]');
      await page.locator('[data-testid=live][data-state=rate-limited]').waitFor();
      expect(await badge.textContent()).toMatch(/^rate limited \(429\): retrying in 3 s$/);
      await screenshotsAtBothWidths(page, 'rate-limited');
      refuse = false;
      // Read again after Retry-After, without a reload.
      await page.locator('section h2', { hasText: 'Webhook events' }).waitFor({ timeout: 10_000 });
      expect(asked.length).toBeGreaterThanOrEqual(2);
      expect(asked[1]! - asked[0]!).toBeGreaterThanOrEqual(1900);
      await page.locator('[data-testid=live][data-state=live]').waitFor({ timeout: 10_000 });
      expect(await badge.textContent()).toBe('live');
    } finally {
      await context.close();
    }
  });

  test('"live" is withdrawn when nothing arrives on the stream for longer than its keep-alive, and comes back with the reconnection', async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    try {
      const page = await context.newPage();
      await page.clock.install();
      await page.goto(`${api.url}/console/#/alerts`);
      await page.fill('input[name=credential]', await api.keyFor('operator'));
      await page.click('button[type=submit]');
      await page.locator('[data-testid=live][data-state=live]').waitFor();
      // Every state the badge takes, in order.
      await page.evaluate(`(() => {
        const badge = document.querySelector('[data-testid=live]');
        window.__liveStates = [];
        new MutationObserver(() => window.__liveStates.push(badge.dataset.state)).observe(badge, { attributes: true, attributeFilter: ['data-state'] });
      })()`);
      // 45 s of silence as the page sees it (the server's keep-alive comes every 15 s of real time).
      await page.clock.fastForward('00:45');
      await page.locator('[data-testid=live][data-state=live]').waitFor();
      await eventually(async () => ((await page.evaluate<string[]>('window.__liveStates')).includes('live') ? true : undefined), 10_000);
      expect((await page.evaluate<string[]>('window.__liveStates')).slice(0, 2)).toEqual(['stale', 'live']);
    } finally {
      await context.close();
    }
  });

  test('every page holds at 420 px: screenshots at 1366 px and 420 px, nothing wider than the screen; every list shows its total', async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    try {
      const page = await signedIn(context, await api.keyFor('operator'), 'providers');
      const listPages = new Set(['alerts', 'sla', 'events', 'calls', 'deliveries']);
      const titles = { providers: 'Providers', alerts: 'Alerts', budgets: 'Budgets', sla: 'SLA compliance', events: 'Webhook events', calls: 'Provider calls', deliveries: 'Deliveries' };
      for (const [name, title] of Object.entries(titles)) {
        await page.goto(`${api.url}/console/#/${name}`);
        await page.locator('main section h2', { hasText: new RegExp(`^${title}$`) }).waitFor();
        // Every list pages, with its total ("1–50 of 234", "0 of 0").
        if (listPages.has(name)) expect(await page.getByTestId('range').textContent()).toMatch(/^(\d+–\d+|0) of \d+$/);
        await screenshotsAtBothWidths(page, `page-${name}`);
      }
    } finally {
      await context.close();
    }
  });

  test('the sign-in refuses a bad credential; /console is public, the data is not', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${api.url}/console/`);
      await page.fill('input[name=credential]', 'sy_nope_nope');
      await page.click('button[type=submit]');
      await page.locator('.signin .error').waitFor();
      await screenshot(page, 'sign-in');
      expect((await fetch(`${api.url}/whoami`)).status).toBe(401);
      expect((await fetch(`${api.url}/stream`)).status).toBe(401);
    } finally {
      await context.close();
    }
  });
});
