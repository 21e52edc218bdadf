/**
 * Every workflow type started in one burst, on a worker and server set up to split workflow tasks,
 * then every history the burst produced replayed against the current code. Recorded histories
 * (replay.test.ts) only hold the task boundaries of the day they were recorded; a history whose
 * local-activity marker ends one task while the code that follows runs in the next could not be
 * replayed (processWebhook's patch marker), and no recorded history had such a split.
 *
 * What splits tasks here:
 * - a server whose default workflow task timeout is 2 s, so the SDK completes a task that waits on
 *   a local activity at its heartbeat (80 %: 1.6 s) with the markers it has, and continues in a new one;
 * - local activities slowed to around that heartbeat, some just before it and some just after;
 * - (a second burst) no sticky cache (`maxCachedWorkflows: 0`): every activation replays the history from the start,
 *   and queries (sent while the work runs) replay it too.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, WorkflowNotFoundError, type WorkflowExecutionInfo } from '@temporalio/client';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { Worker } from '@temporalio/worker';
import { payloadDataConverter } from '../../lib/security/payload-codec';
import { findFreePort, startDevServer, workflowTaskTimeoutConfig, type DevServer } from '../../lib/temporal/dev-server';
import { prepareNamespace } from '../../scripts/prepare';
import { workerDataConverter } from '../../workers/worker';
import { eventually, postStripe, sampleBooking, startStack, stripeEvent, testConfig, type TestStack, type WorkerSetup } from '../support/harness';
import type { Config } from '../../lib/config/config';
import type { AlertInput } from '../../contracts/monitoring';
import { alertWorkflowId } from '../../contracts/monitoring';
import { webhookStatusQuery } from '../../contracts/webhook';
import { splitAtLocalActivityMarkers, type History } from '../support/split-tasks';
import { workflowBundle } from '../support/workflow-bundle';

jest.setTimeout(240_000);

/** Local activities take 0.9 to 2.3 s: on either side of the 1.6 s task heartbeat. */
const slowLocalActivities: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    async execute(input, next) {
      if (ctx.info.isLocal) await new Promise((resolve) => setTimeout(resolve, 900 + Math.floor(Math.random() * 1400)));
      return next(input);
    },
  },
});

let server: DevServer;
let serverDir: string;
let client: Client;
let receiver: Server;
let receiverUrl: string;

beforeAll(async () => {
  serverDir = mkdtempSync(path.join(os.tmpdir(), 'switchyard-burst-temporal-'));
  server = await startDevServer({
    port: await findFreePort(),
    dbFile: path.join(serverDir, 'temporal.db'),
    dynamicConfig: [workflowTaskTimeoutConfig('2s')],
  });
  await prepareNamespace(server.address, 'default');
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200).end('ok'));
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
  const connection = await Connection.connect({ address: server.address });
  client = new Client({ connection, namespace: 'default', dataConverter: payloadDataConverter(testConfig().PAYLOAD_ENCRYPTION_KEYS) });
});

afterAll(async () => {
  await client?.connection.close();
  await new Promise((resolve) => receiver?.close(resolve));
  await server?.stop();
  if (serverDir) rmSync(serverDir, { recursive: true, force: true });
});

const json = { 'content-type': 'application/json' };

/** Starts every workflow type at once; resolves with the ids the API answered or the client started. */
async function burst(s: TestStack, refusable: RegExp | undefined): Promise<{ webhooks: string[] }> {
  const { api, config } = s;
  const queue = config.TEMPORAL_TASK_QUEUE;
  const run = randomUUID().slice(0, 8);
  /** As a client does: a 5xx says "retry later" (not durably accepted in time, e.g. an update-with-start under load). */
  const expectStarted = async (send: () => Promise<Response>): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      const answer = await send();
      if (answer.status < 300) return;
      const text = await answer.text();
      if (answer.status >= 500 && attempt === 3 && refusable?.test(answer.url)) return;
      if (answer.status < 500 || attempt === 10) throw new Error(`${answer.url}: ${answer.status} ${text}`);
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
  };
  const webhookTypes = ['payment_intent.succeeded', 'charge.refunded', 'customer.created'];
  const webhooks = await Promise.all(
    Array.from({ length: 12 }, async (_, i) => {
      const accepted = await postStripe(api.url, stripeEvent(webhookTypes[i % webhookTypes.length]));
      if (accepted.status !== 202) throw new Error(`webhook: ${accepted.status} ${JSON.stringify(accepted.json)}`);
      return String(accepted.json.workflowId);
    }),
  );
  const alert: AlertInput = { rule: 'burst-replay', fingerprint: run, severity: 'low', summary: 'burst replay check' };
  await Promise.all([
    ...Array.from({ length: 3 }, () =>
      expectStarted(() =>
        api.fetch('/calls/stripe/createPaymentIntent', {
          method: 'POST',
          headers: { ...json, 'idempotency-key': randomUUID() },
          body: JSON.stringify({ params: { amount: 100, currency: 'usd' } }),
        }),
      ),
    ),
    ...Array.from({ length: 2 }, () =>
      expectStarted(() =>
        api.fetch('/bookings', {
          method: 'POST',
          headers: { ...json, 'idempotency-key': randomUUID() },
          body: JSON.stringify(sampleBooking),
        }),
      ),
    ),
    ...Array.from({ length: 3 }, (_, i) =>
      expectStarted(() =>
        api.fetch('/batches/sendgrid/sendMail', {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ params: { to: `burst-${run}-${i}@example.com`, subject: 's', text: 't' }, priority: 'high' }),
        }),
      ),
    ),
    client.workflow.start('healthProbe', { taskQueue: queue, workflowId: `test-burst-probe:${run}`, args: [{ provider: 'stripe' }] }),
    client.workflow.start('slaReport', {
      taskQueue: queue,
      workflowId: `test-burst-sla:${run}`,
      args: [{ window: 'hourly', end: new Date().toISOString(), providers: ['stripe'] }],
    }),
    client.workflow.start('costAnomalyCheck', { taskQueue: queue, workflowId: `test-burst-cost:${run}`, args: [{ providers: ['stripe'] }] }),
    client.workflow.start('pruneData', { taskQueue: queue, workflowId: `test-burst-prune:${run}`, args: [{ batchSize: 50 }] }),
    client.workflow
      .signalWithStart('alert', { workflowId: alertWorkflowId(alert.rule, alert.fingerprint), taskQueue: queue, args: [alert], signal: 'raise', signalArgs: [{ summary: alert.summary }] })
      .then(async (handle) => {
        await new Promise((resolve) => setTimeout(resolve, 3000));
        await handle.signal('resolve', { reason: 'burst over' });
      }),
  ]);
  return { webhooks };
}

/** Every execution on the test's task queue, once all have closed (deliveries of a down receiver retry briefly). */
async function closedExecutions(s: TestStack): Promise<WorkflowExecutionInfo[]> {
  const query = `TaskQueue = '${s.config.TEMPORAL_TASK_QUEUE}'`;
  const resolved = new Set<string>();
  return eventually(async () => {
    const executions: WorkflowExecutionInfo[] = [];
    for await (const execution of client.workflow.list({ query })) executions.push(execution);
    const open = executions.filter((e) => e.status.name === 'RUNNING');
    // An alert stays open until resolved. Besides the burst's own, the SLA report raises one when
    // the test database's probe rows (other suites') put stripe under its target: resolve it too.
    // Each run once (a report raising the alert again after its resolve starts a new run of the same
    // id, which must be resolved too); a signal that failed is sent again at the next look.
    const unresolved = open.filter((e) => e.type === 'alert' && !resolved.has(`${e.workflowId} ${e.runId}`));
    await Promise.all(
      unresolved.map((e) =>
        client.workflow
          .getHandle(e.workflowId, e.runId)
          .signal('resolve', { reason: 'burst over' })
          .then(() => resolved.add(`${e.workflowId} ${e.runId}`), () => undefined),
      ),
    );
    if (open.length > 0) throw new Error(`still open: ${open.map((e) => `${e.type} ${e.workflowId}`).join(', ')}`);
    return executions.length > 0 ? executions : undefined;
  }, 180_000);
}

/** Starts a stack on the burst server with this worker set-up, bursts, waits, checks status queries, and replays every history. */
/**
 * `cacheOff.queries`: query refusals tolerated while the work runs; `cacheOff.starts`: API paths
 * whose start may still be refused after three tries (then that workflow type may be missing).
 */
async function burstAndReplay(worker: WorkerSetup, config: Partial<Config> = {}, cacheOff: { queries?: RegExp; starts?: RegExp } = {}): Promise<void> {
  const s = await startStack({
    config: { TEMPORAL_ADDRESS: server.address, ...config },
    // A batch stays open for its dedup window after its last item: 2 s instead of a minute.
    registry: (r) => void (r.sendgrid!.batch!.dedupWindowSeconds = 2),
    worker: { deliveryRetrySchedule: ['1 second'], ...worker },
  });
  try {
    const subscriber = await s.api.fetch('/subscribers', { method: 'POST', headers: json, body: JSON.stringify({ url: receiverUrl }) });
    expect(subscriber.status).toBe(201);

    const { webhooks } = await burst(s, cacheOff.starts);
    // Status queried while the work runs, as the console and GET /webhooks/events/:id do.
    const queryProblems = new Set<string>();
    await Promise.all(
      webhooks.map(async (id) => {
        for (let i = 0; i < 200; i++) {
          const answer = await client.workflow
            .getHandle(id)
            .query(webhookStatusQuery)
            .catch((err: Error) => err);
          if (answer instanceof Error && cacheOff.queries?.test(String((answer.cause as Error | undefined)?.message))) continue;
          // Accepted into the inbox, not started by the drainer yet.
          if (answer instanceof WorkflowNotFoundError) {
            await new Promise((resolve) => setTimeout(resolve, 50));
            continue;
          }
          if (answer instanceof Error) queryProblems.add(`${id}: ${answer.message}${answer.cause instanceof Error ? `: ${answer.cause.message}` : ''}`);
          else if (answer.status === 'completed' || answer.status === 'failed') return;
        }
      }),
    );
    expect([...queryProblems]).toEqual([]);

    const executions = await closedExecutions(s);
    const types = new Set(executions.map((e) => e.type));
    const expected = ['processWebhook', 'deliverEvent', 'providerCall', 'bookingSaga', 'batch', 'healthProbe', 'slaReport', 'costAnomalyCheck', 'pruneData', 'alert'];
    expect(expected.filter((type) => !types.has(type) && !(type === 'batch' && cacheOff.starts))).toEqual([]);

    // Every completed webhook answers its status query (on a closed run: a replay of its whole history).
    for (const id of webhooks) {
      const status = await client.workflow.getHandle(id).query(webhookStatusQuery);
      expect({ id, status: status.status }).toEqual({ id, status: 'completed' });
    }

    // Each history as it was, and split after every local-activity marker as a task heartbeat would.
    const histories: Array<{ workflowId: string; history: History }> = [];
    for await (const { workflowId, history } of client.workflow.list({ query: `TaskQueue = '${s.config.TEMPORAL_TASK_QUEUE}'` }).intoHistories()) {
      // intoHistories types each history as unknown; it is the server's History message.
      histories.push({ workflowId, history: history as History });
      const split = splitAtLocalActivityMarkers(history as History);
      if (split) histories.push({ workflowId: `${workflowId} (split after its local activities)`, history: split });
    }
    expect(histories.filter((h) => h.workflowId.endsWith(')')).length).toBeGreaterThan(executions.length / 2);
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories({ workflowBundle: await workflowBundle(), dataConverter: workerDataConverter(s.config.PAYLOAD_ENCRYPTION_KEYS) }, histories)) {
      replayed++;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message.slice(0, 400)}`);
    }
    expect(replayed).toBe(histories.length);
    expect(failures).toEqual([]);
  } finally {
    await s.close();
  }
}

test('slow local activities (tasks completed at their heartbeat, the code continuing in the next): every history replays', async () => {
  await burstAndReplay({ activityInterceptors: [slowLocalActivities] });
});

test('no sticky cache (every activation replays the history from the start): every history replays', async () => {
  // With no cache the SDK evicts a run while its local activities are in flight ("likely to be
  // dropped or retried", core warns, and reports its own bug on such an eviction): the task fails
  // and is retried, and a query in between is refused; a batch's addItem update-with-start, which
  // waits for a task that runs its planBatch local activity first, may not be accepted at all
  // (FAILED_PRECONDITION). Only those are tolerated; every history that exists must replay.
  await burstAndReplay(
    {},
    { WORKER_MAX_CACHED_WORKFLOWS: 0 },
    { queries: /Unable to query workflow due to Workflow Task in failed state/, starts: /\/batches\// },
  );
});
