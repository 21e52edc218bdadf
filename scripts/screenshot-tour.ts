/**
 * `npm run screenshots`: the pictures of docs/OPERATIONS.md's screenshot tour, made again.
 *
 * Starts the system as `npm start` does (dist/scripts/run-system.js: worker, API with the console,
 * fake providers) against a Temporal dev server it starts itself (in memory, its Web UI decoding
 * payloads through the API's development codec), on its own ports (TOUR_PORT_BASE, default 38000)
 * and its own database (TOUR_DATABASE_URL, default …/switchyard_tour, emptied first), so it never
 * meets a running `npm start`. With `--attach` it uses the system the environment describes
 * instead (PORT, TEMPORAL_UI_URL, the metrics ports; SWITCHYARD_API_KEY or a key made in
 * DATABASE_URL; STRIPE_WEBHOOK_SECRETS to send webhooks; FAKE_PROVIDERS_PORT for faults).
 *
 * Then: TOUR_TRAFFIC_SECONDS (default 150) of traffic (scripts/tour/traffic.ts) while a Prometheus
 * (Debian's `prometheus`, or PROMETHEUS_PATH) scrapes every metrics port; an hourly SLA report and
 * a cost anomaly check; every console page at 1366 px (two also at 420 px) after signing in; a
 * processWebhook run's decoded input in the Temporal Web UI; the Grafana dashboard drawn from its
 * panels' queries (scripts/tour/dashboard.ts). PNGs go to docs/images/tour-*.png (TOUR_IMAGES_DIR
 * elsewhere). Everything it started is stopped at the end, also on failure and on Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import { chromium, type Browser, type Page } from 'playwright-core';
import { loadConfig } from '../lib/config/config';
import { projectRoot } from '../lib/config/paths';
import { baseUrlOverrideVariable, loadRegistry } from '../lib/config/registry';
import { createPool } from '../lib/data/db';
import { createApiKey } from '../lib/security/api-keys';
import { startDevServer, type DevServer } from '../lib/temporal/dev-server';
import { costAnomalyScheduleId, slaScheduleId } from '../workers/schedules';
import { dashboardHtml, dashboardPanels, drawDashboardScript, seriesName, type DrawnPanel } from './tour/dashboard';
import { startPrometheus, type RunningPrometheus, type ScrapeTargets } from './tour/prometheus';
import { produceTraffic, type TrafficResult } from './tour/traffic';
import { prepareDatabase, prepareNamespace } from './prepare';

const say = (line: string): void => console.log(`[tour] ${line}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const imagesDir = path.resolve(process.env.TOUR_IMAGES_DIR ?? path.join(projectRoot, 'docs', 'images'));
const shown = (file: string) => {
  const relative = path.relative(projectRoot, path.join(imagesDir, file));
  return relative.startsWith('..') ? path.join(imagesDir, file) : relative;
};
const WIDE = 1366;
const NARROW = 420;
/** Tall pages are cut here: the pictures show the top of a list, not all of it. */
const MAX_HEIGHT = 1000;

/** Where the system under the camera answers. */
interface System {
  apiUrl: string;
  uiUrl: string;
  namespace: string;
  temporalAddress: string;
  apiKey: string;
  stripeSecret?: string;
  fakesUrl?: string;
  subscriberUrls?: { ok: string; failing: string };
  scrape: ScrapeTargets;
  /** The API's and worker's log lines (JSON), when this script runs them. */
  logLines: string[];
}

/** What to stop at the end, last started first. */
const cleanups: Array<{ name: string; run: () => Promise<void> }> = [];
const onCleanup = (name: string, run: () => Promise<void>) => cleanups.unshift({ name, run });

async function stopEverything(): Promise<void> {
  for (const { name, run } of cleanups.splice(0)) {
    try {
      await run();
    } catch (err) {
      say(`stopping ${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

function findExecutable(candidates: Array<string | undefined>, name: string): string | undefined {
  const onPath = (process.env.PATH ?? '').split(path.delimiter).map((dir) => path.join(dir, name));
  return [...candidates, ...onPath].find((p): p is string => {
    if (!p) return false;
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(300);
  }
}

function listen(answer: number): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(answer).end());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook` })));
}

/** Drops and re-creates the tour's database (only a database whose name ends in `_tour`). */
async function emptyDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  if (!/^[a-z0-9_]+_tour$/.test(name)) throw new Error(`TOUR_DATABASE_URL must name a database ending in _tour (it is emptied): ${name}`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const pg = new PgClient({ connectionString: admin.toString() });
  await pg.connect();
  try {
    await pg.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await pg.end();
  }
}

/** Dev server, migrations, run-system.js with the environment of a tour, two subscriber endpoints. */
async function startOwnSystem(): Promise<System> {
  const base = Number(process.env.TOUR_PORT_BASE ?? 38000);
  const ports = { api: base + 80, apiMetrics: base + 463, workerMetrics: base + 464, sdkMetrics: base + 465, temporal: base + 233, ui: base + 234, temporalMetrics: base + 235, codec: base + 236, fakes: base + 10 };
  const databaseUrl = process.env.TOUR_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/switchyard_tour';
  const temporalAddress = `127.0.0.1:${ports.temporal}`;
  const uiUrl = `http://127.0.0.1:${ports.ui}`;

  await emptyDatabase(databaseUrl);
  await prepareDatabase(databaseUrl);
  say(`starting a Temporal dev server on ${temporalAddress} (in memory), Web UI ${uiUrl}`);
  const devServer: DevServer = await startDevServer({ port: ports.temporal, uiPort: ports.ui, uiCodecEndpoint: `http://127.0.0.1:${ports.codec}/codec`, metricsPort: ports.temporalMetrics });
  onCleanup('the Temporal dev server', () => devServer.stop());
  await prepareNamespace(temporalAddress, 'default', 1);

  const ok = await listen(200);
  const failing = await listen(503);
  for (const { server } of [ok, failing]) onCleanup('a subscriber endpoint', () => new Promise((resolve) => server.close(() => resolve())));
  const stripeSecret = `whsec_tour_${randomBytes(12).toString('hex')}`;

  // The child's environment: the tour's ports and database; no provider credentials or base URLs
  // (every provider on the fakes) and no configuration file from the caller's shell.
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const provider of Object.values(loadRegistry())) {
    delete env[baseUrlOverrideVariable(provider.name)];
    for (const variable of Object.values(provider.credentials)) delete env[variable];
  }
  for (const name of Object.keys(env)) if (/^(CONFIG_FILE|PROVIDERS_FILE|WEBHOOK_SECRETS_FILE|WEBHOOK_SOURCES_FILE|WEBHOOK_SECRETS_.*|ALERT_.*)$/.test(name)) delete env[name];
  Object.assign(env, {
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_UI_URL: uiUrl,
    TEMPORAL_UI_PORT: String(ports.ui),
    PORT: String(ports.api),
    API_METRICS_PORT: String(ports.apiMetrics),
    WORKER_METRICS_PORT: String(ports.workerMetrics),
    TEMPORAL_SDK_METRICS_PORT: String(ports.sdkMetrics),
    CODEC_DEV_PORT: String(ports.codec),
    FAKE_PROVIDERS_PORT: String(ports.fakes),
    METRICS_HOST: '127.0.0.1',
    STRIPE_WEBHOOK_SECRETS: stripeSecret,
    OUTBOUND_ALLOW: [ok.url, failing.url].map((u) => new URL(u).host).join(','),
    DELIVERY_RETRY_SCHEDULE: '2s,4s',
    LOG_LEVEL: 'info',
  });
  say(`starting dist/scripts/run-system.js (API http://127.0.0.1:${ports.api}, database ${new URL(databaseUrl).pathname.slice(1)})`);
  const system: ChildProcess = spawn(process.execPath, [path.join(projectRoot, 'dist', 'scripts', 'run-system.js')], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const logLines: string[] = [];
  let partial = '';
  system.stdout?.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('{')) logLines.push(line);
      else if (line.startsWith('[switchyard]') || line.startsWith('[setup]')) console.log(line);
    }
    if (logLines.length > 5000) logLines.splice(0, logLines.length - 5000);
  });
  const exited = new Promise<void>((resolve) => system.once('exit', () => resolve()));
  onCleanup('run-system.js', async () => {
    if (system.exitCode !== null || system.signalCode !== null) return;
    system.kill('SIGTERM');
    await Promise.race([exited, sleep(30_000)]);
    if (system.exitCode === null && system.signalCode === null) system.kill('SIGKILL');
  });
  const apiUrl = `http://127.0.0.1:${ports.api}`;
  const started = async (url: string) => {
    // Stopped early: its last log lines say why (they are not printed otherwise).
    if (system.exitCode !== null) throw new Error(`run-system.js exited (code ${system.exitCode}); its last log lines:\n${logLines.slice(-12).join('\n')}`);
    return (await fetch(url)).ok;
  };
  const ready = async (what: string, url: string) => {
    const deadline = Date.now() + 90_000;
    while (!(await started(url).catch((err: unknown) => {
      if (system.exitCode !== null) throw err;
      return false;
    }))) {
      if (Date.now() > deadline) throw new Error(`${what}: not ready within 90 s`);
      await sleep(300);
    }
  };
  await ready('the API', `${apiUrl}/readyz`);
  await ready('the worker', `http://127.0.0.1:${ports.workerMetrics}/readyz`);

  const pool = createPool(databaseUrl, { max: 1 });
  const { key } = await createApiKey(pool, { tenant: loadConfig().DEFAULT_TENANT, role: 'admin', name: 'screenshot tour' }).finally(() => pool.end());
  return {
    apiUrl,
    uiUrl,
    namespace: 'default',
    temporalAddress,
    apiKey: key,
    stripeSecret,
    fakesUrl: `http://127.0.0.1:${ports.fakes}`,
    subscriberUrls: { ok: ok.url, failing: failing.url },
    scrape: {
      'switchyard-api': `127.0.0.1:${ports.apiMetrics}`,
      'switchyard-worker': `127.0.0.1:${ports.workerMetrics}`,
      'temporal-sdk': `127.0.0.1:${ports.sdkMetrics}`,
      'temporal-server': `127.0.0.1:${ports.temporalMetrics}`,
    },
    logLines,
  };
}

/** The running system the environment describes (`--attach`). */
async function attachToSystem(): Promise<System> {
  const config = loadConfig();
  let apiKey = process.env.SWITCHYARD_API_KEY;
  if (!apiKey) {
    const pool = createPool(config.DATABASE_URL, { max: 1 });
    apiKey = (await createApiKey(pool, { tenant: config.DEFAULT_TENANT, role: 'admin', name: 'screenshot tour' }).finally(() => pool.end())).key;
  }
  const fakesUrl = `http://127.0.0.1:${process.env.FAKE_PROVIDERS_PORT ?? 4010}`;
  const fakesAnswer = await fetch(`${fakesUrl}/__fake/state`).then((r) => r.ok, () => false);
  const stripeSecret = (process.env.STRIPE_WEBHOOK_SECRETS ?? process.env.WEBHOOK_SECRETS_STRIPE)?.split(',')[0];
  if (!stripeSecret) say('no STRIPE_WEBHOOK_SECRETS: no webhooks are sent');
  if (!fakesAnswer) say(`no fake providers at ${fakesUrl}: no faults are injected`);
  const sdkPort = config.TEMPORAL_SDK_METRICS_PORT;
  return {
    apiUrl: `http://127.0.0.1:${config.PORT}`,
    uiUrl: config.TEMPORAL_UI_URL,
    namespace: config.TEMPORAL_NAMESPACE,
    temporalAddress: config.TEMPORAL_ADDRESS,
    apiKey,
    stripeSecret,
    fakesUrl: fakesAnswer ? fakesUrl : undefined,
    scrape: {
      'switchyard-api': `${config.METRICS_HOST}:${config.API_METRICS_PORT}`,
      'switchyard-worker': `${config.METRICS_HOST}:${config.WORKER_METRICS_PORT}`,
      ...(sdkPort ? { 'temporal-sdk': `${config.METRICS_HOST}:${sdkPort}` } : {}),
      'temporal-server': `127.0.0.1:${process.env.TEMPORAL_SERVER_METRICS_PORT ?? 9233}`,
    },
    logLines: [],
  };
}

/**
 * Runs the hourly SLA report and the cost anomaly check now (their Schedules' trigger), so the SLA
 * page has a report and the dashboard an anomaly ratio.
 */
async function triggerReports(system: System): Promise<void> {
  const connection = await Connection.connect({ address: system.temporalAddress });
  try {
    const client = new Client({ connection, namespace: system.namespace });
    for (const id of [slaScheduleId('hourly'), costAnomalyScheduleId()]) {
      await client.schedule.getHandle(id).trigger().catch((err: unknown) => say(`schedule ${id}: ${err instanceof Error ? err.message : String(err)}`));
    }
  } finally {
    await connection.close();
  }
}

async function shoot(page: Page, name: string): Promise<void> {
  await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))');
  const viewport = page.viewportSize()!;
  const height = Math.min(MAX_HEIGHT, await page.evaluate<number>('document.documentElement.scrollHeight'));
  await page.screenshot({ path: path.join(imagesDir, `tour-${name}.png`), fullPage: true, clip: { x: 0, y: 0, width: viewport.width, height } });
  say(shown(`tour-${name}.png`));
}

/** Every page the console's navigation offers, the event and call details, two pages at 420 px. */
async function shootConsole(browser: Browser, system: System, traffic: TrafficResult): Promise<void> {
  const context = await browser.newContext({ viewport: { width: WIDE, height: 900 } });
  try {
    const page = await context.newPage();
    await page.goto(`${system.apiUrl}/console/`);
    await page.locator('input[name=credential]').waitFor();
    await shoot(page, 'console-sign-in');
    await page.fill('input[name=credential]', system.apiKey);
    await page.click('button[type=submit]');
    await page.locator('[data-testid=who]').waitFor();
    const pages = await page.evaluate<string[]>(`[...document.querySelectorAll('nav a[data-page]')].map((a) => a.dataset.page)`);
    say(`console pages: ${pages.join(', ')}`);
    const visit = async (hash: string, name: string) => {
      await page.goto(`${system.apiUrl}/console/#/${hash}`);
      await page.locator('main section h2').first().waitFor();
      await sleep(2000); // the page's reads and charts settle
      await shoot(page, name);
    };
    for (const name of pages) await visit(name, `console-${name}`);
    if (traffic.webhook) await visit(`events/${encodeURIComponent(traffic.webhook.workflowId)}`, 'console-event-detail');
    if (traffic.callWorkflowId) await visit(`calls/${encodeURIComponent(traffic.callWorkflowId)}`, 'console-call-detail');
    await page.setViewportSize({ width: NARROW, height: 900 });
    for (const name of ['providers', 'events'].filter((p) => pages.includes(p))) await visit(name, `console-${name}-${NARROW}`);
  } finally {
    await context.close();
  }
}

/** The processWebhook run's history in the Temporal Web UI, once its input shows decoded. */
async function shootTemporalUi(browser: Browser, system: System, webhook: NonNullable<TrafficResult['webhook']>): Promise<void> {
  const page = await browser.newPage({ viewport: { width: WIDE, height: 1000 } });
  try {
    await page.goto(`${system.uiUrl}/namespaces/${system.namespace}/workflows/${encodeURIComponent(webhook.workflowId)}/${webhook.runId}/history`);
    await waitFor('the decoded input in the Web UI', async () => (await page.locator('body').innerText()).includes(webhook.paymentIntent), 30_000);
    await sleep(1000);
    await shoot(page, 'temporal-ui-decoded');
  } finally {
    await page.close();
  }
}

const pinoLevels: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** The logs panel's query, read from the captured stdout: lines of a workflow, newest last. */
function logsPanelLines(lines: string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    try {
      const entry = JSON.parse(line) as { time?: number | string; level?: number | string; msg?: string; workflowId?: string; service?: string; name?: string };
      if (!entry.workflowId) continue;
      const time = new Date(entry.time ?? Date.now()).toISOString().slice(11, 19);
      const level = pinoLevels[Number(entry.level)] ?? String(entry.level ?? '');
      out.push(`${time} ${level} ${entry.service ?? entry.name ?? ''} ${entry.msg ?? ''} workflowId=${entry.workflowId}`.replace(/\s+/g, ' '));
    } catch {
      // not a JSON log line
    }
  }
  return out.slice(-24);
}

async function shootDashboard(browser: Browser, system: System, prometheus: RunningPrometheus | undefined, since: number): Promise<void> {
  const end = Math.floor(Date.now() / 1000);
  const start = Math.floor(since / 1000);
  const step = Math.max(2, Math.floor((end - start) / 200));
  const panels: DrawnPanel[] = [];
  for (const panel of dashboardPanels()) {
    const drawn: DrawnPanel = { ...panel, series: [] };
    if (panel.datasource === 'prometheus') {
      if (!prometheus) drawn.note = 'no Prometheus here: not evaluated';
      for (const query of prometheus ? panel.queries : []) {
        try {
          for (const s of await prometheus!.queryRange(query.expr, start, end, step)) drawn.series.push({ name: seriesName(s.labels, query.legendFormat), points: s.points });
        } catch (err) {
          drawn.note = err instanceof Error ? err.message : String(err);
        }
      }
    } else if (panel.type === 'logs') {
      drawn.lines = logsPanelLines(system.logLines);
      drawn.note = 'no Loki here: the same selection from the API\'s and worker\'s stdout';
    }
    panels.push(drawn);
  }
  const withData = panels.filter((p) => p.series.some((s) => s.points.length > 0)).length;
  say(`dashboard: ${withData} of ${panels.filter((p) => p.datasource === 'prometheus').length} Prometheus panels have data`);
  const page = await browser.newPage({ viewport: { width: WIDE, height: 900 } });
  try {
    const minutes = Math.round((end - start) / 60);
    await page.setContent(dashboardHtml('Switchyard', `ops/grafana/dashboards/switchyard.json, each panel's query evaluated by Prometheus over the last ${minutes} min (${step} s step)`));
    await page.addScriptTag({ path: path.join(projectRoot, 'node_modules', 'chart.js', 'dist', 'chart.umd.min.js') });
    await page.evaluate(`(${drawDashboardScript})(${JSON.stringify(panels)})`);
    const viewport = page.viewportSize()!;
    const height = await page.evaluate<number>('document.documentElement.scrollHeight');
    // The whole dashboard, in two pictures: the top rows (health, latency, errors, budget) and the rest.
    const split = await page.evaluate<number>('(() => { const rows = [...document.querySelectorAll(".row")]; const b = rows.find((r) => r.textContent === "Batching"); return b ? b.getBoundingClientRect().top : 1400; })()');
    await page.screenshot({ path: path.join(imagesDir, 'tour-grafana-1.png'), fullPage: true, clip: { x: 0, y: 0, width: viewport.width, height: split } });
    await page.screenshot({ path: path.join(imagesDir, 'tour-grafana-2.png'), fullPage: true, clip: { x: 0, y: split, width: viewport.width, height: height - split } });
    say(`${shown('tour-grafana-1.png')}, ${shown('tour-grafana-2.png')}`);
  } finally {
    await page.close();
  }
}

async function main(): Promise<void> {
  const attach = process.argv.includes('--attach');
  const chromiumPath = findExecutable([process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'], 'chromium');
  if (!chromiumPath) throw new Error('no Chromium: install Debian\'s chromium (npm run setup does) or set CHROMIUM_PATH');
  if (!existsSync(path.join(projectRoot, 'dist', 'console', 'index.html'))) throw new Error('no console build: run npm run setup (or npx vite build console) first');
  mkdirSync(imagesDir, { recursive: true });

  const system = attach ? await attachToSystem() : await startOwnSystem();
  const since = Date.now();
  let prometheus: RunningPrometheus | undefined;
  const prometheusPath = findExecutable([process.env.PROMETHEUS_PATH], 'prometheus');
  if (prometheusPath) {
    prometheus = await startPrometheus(prometheusPath, Number(process.env.TOUR_PROMETHEUS_PORT ?? Number(process.env.TOUR_PORT_BASE ?? 38000) + 90), system.scrape);
    onCleanup('Prometheus', () => prometheus!.stop());
    say(`Prometheus ${prometheus.url} scrapes ${Object.values(system.scrape).join(', ')} every 2 s`);
  } else {
    say('no prometheus binary (apt-get install prometheus, or PROMETHEUS_PATH): the dashboard is drawn without data');
  }

  const seconds = Number(process.env.TOUR_TRAFFIC_SECONDS ?? 150);
  say(`${seconds} s of traffic`);
  const traffic = await produceTraffic({ ...system, durationMs: seconds * 1000, say });
  await triggerReports(system).catch((err: unknown) => say(`reports: ${err instanceof Error ? err.message : String(err)}`));
  await sleep(8000); // the last deliveries, probes and scrapes

  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  onCleanup('Chromium', () => browser.close());
  await shootConsole(browser, system, traffic);
  if (traffic.webhook) await shootTemporalUi(browser, system, traffic.webhook);
  else say('no webhook was processed: no Temporal Web UI picture');
  await shootDashboard(browser, system, prometheus, since);
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    say(`${signal}: stopping`);
    void stopEverything().then(() => process.exit(130));
  });
}

main().then(
  async () => {
    await stopEverything();
    say('done');
  },
  async (err: unknown) => {
    console.error(`[tour] failed: ${err instanceof Error ? err.message : String(err)}`);
    await stopEverything();
    process.exit(1);
  },
);
