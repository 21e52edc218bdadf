/**
 * Payloads readable where operators look at runs: the Temporal Web UI of the dev server, as `npm
 * start` runs it (its codec endpoint is the API's development codec, api/dev-codec.ts), and the
 * pinned Temporal CLI against the API's authenticated `/codec`. Without a codec both show the
 * sealed payloads (`binary/encrypted`); here the event's own fields must appear, and another
 * tenant's must not.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Pool } from 'pg';
import { chromium, type Browser } from 'playwright-core';
import { serveDevCodec } from '../../api/dev-codec';
import type { Config } from '../../lib/config/config';
import { projectRoot } from '../../lib/config/paths';
import { findFreePort, startDevServer, temporalCliPath, type DevServer } from '../../lib/temporal/dev-server';
import { prepareNamespace } from '../../scripts/prepare';
import { eventually, postStripe, startApi, startWorker, stripeEvent, testConfig, testPool, type RunningApi, type RunningWorker } from '../support/harness';
import { whenStarted } from '../support/inbox';

const executablePath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => !!p && existsSync(p));
const maybe = executablePath ? test : test.skip;
if (!executablePath) console.warn('test/browser: no Chromium (/usr/bin/chromium); the Temporal UI test is skipped.');
const artifacts = path.join(projectRoot, 'test-artifacts', 'temporal-ui');
const run = promisify(execFile);

let server: DevServer;
let uiUrl: string;
let config: Config;
let otherConfig: Config;
let pool: Pool;
let worker: RunningWorker;
let otherWorker: RunningWorker;
let api: RunningApi;
let otherApi: RunningApi;
let codec: Server;
let browser: Browser | undefined;

beforeAll(async () => {
  const [port, uiPort, codecPort] = [await findFreePort(), await findFreePort(), await findFreePort()];
  server = await startDevServer({ port, uiPort, uiCodecEndpoint: `http://127.0.0.1:${codecPort}/codec` });
  await prepareNamespace(server.address, 'default');
  uiUrl = `http://127.0.0.1:${uiPort}`;
  pool = testPool();
  config = testConfig({ TEMPORAL_ADDRESS: server.address, TEMPORAL_UI_URL: uiUrl });
  otherConfig = testConfig({ TEMPORAL_ADDRESS: server.address, TEMPORAL_UI_URL: uiUrl });
  [worker, otherWorker] = await Promise.all([startWorker(config, pool), startWorker(otherConfig, pool)]);
  [api, otherApi] = await Promise.all([startApi(config, pool), startApi(otherConfig, pool)]);
  codec = await serveDevCodec({ config, pool }, codecPort);
  if (executablePath) browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  mkdirSync(artifacts, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  codec?.close();
  await Promise.all([api?.close(), otherApi?.close()]);
  await Promise.all([worker?.stop(), otherWorker?.stop()]);
  await pool?.end();
  await server?.stop();
});

/** A signed Stripe webhook through `target`'s API, processed: its workflow id, run id and payment intent id. */
async function processed(target: RunningApi): Promise<{ workflowId: string; runId: string; paymentIntent: string }> {
  const event = stripeEvent();
  const accepted = await postStripe(target.url, event);
  expect(accepted.status).toBe(202);
  const workflowId = String(accepted.json.workflowId);
  const handle = await whenStarted(target.workflows, workflowId);
  await handle.result();
  return { workflowId, runId: (await handle.describe()).runId, paymentIntent: (event.data as { object: { id: string } }).object.id };
}

maybe("the dev server's Web UI shows a processWebhook run's input decoded, and another tenant's still sealed", async () => {
  const mine = await processed(api);
  const theirs = await processed(otherApi);
  const page = await browser!.newPage({ viewport: { width: 1366, height: 900 } });
  try {
    const historyOf = (run: { workflowId: string; runId: string }) =>
      `${uiUrl}/namespaces/default/workflows/${encodeURIComponent(run.workflowId)}/${run.runId}/history`;
    const text = () => page.locator('body').innerText();
    await page.goto(historyOf(mine));
    // The input (the verified event) is shown decoded: its payment intent id is only in the payload.
    await eventually(async () => ((await text()).includes(mine.paymentIntent) ? true : undefined), 30_000);
    await page.screenshot({ path: path.join(artifacts, 'process-webhook-decoded.png'), fullPage: true });

    // The development codec acts for DEFAULT_TENANT: another tenant's run stays sealed (the UI
    // shows the sealed payload's metadata, its key id among it).
    await page.goto(historyOf(theirs));
    await eventually(async () => ((await text()).includes('"encryption-key-id"') ? true : undefined), 30_000);
    expect(await text()).not.toContain(theirs.paymentIntent);
    await page.screenshot({ path: path.join(artifacts, 'other-tenant-sealed.png'), fullPage: true });
  } finally {
    await page.close();
  }
}, 120_000);

test("the pinned CLI decodes a history through the API's /codec with an operator key, and only its tenant's", async () => {
  const mine = await processed(api);
  const key = await api.keyFor('operator');
  const show = (workflowId: string) =>
    run(temporalCliPath, ['workflow', 'show', '--address', server.address, '--workflow-id', workflowId, '--codec-endpoint', `${api.url}/codec`, '--codec-auth', `Bearer ${key}`, '--output', 'json'], {
      maxBuffer: 16 * 1024 * 1024,
    });
  // `--output json` prints each payload's data as base64: the decoded payloads are JSON inside it.
  const payloadsIn = (json: string) => [...json.matchAll(/"data":\s*"([A-Za-z0-9+/=]*)"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString()).join('\n');
  expect(payloadsIn((await show(mine.workflowId)).stdout)).toContain(mine.paymentIntent);

  const theirs = await processed(otherApi);
  expect(payloadsIn((await show(theirs.workflowId)).stdout)).not.toContain(theirs.paymentIntent);
}, 120_000);
