/**
 * Graceful shutdown with real processes (the compiled API and worker from dist/, real signals):
 * - API: SIGTERM while a slow request waits → that request still gets its normal answer, new
 *   connections are refused, open SSE streams end at once, and the process exits 0 within
 *   SHUTDOWN_GRACE_MS; past the bound, requests are cut off and it exits 1 saying how many.
 * - worker: SIGTERM during a provider call → polling stops, the call finishes (one provider
 *   request), the process exits 0 and another worker completes the workflow.
 * - worker SIGKILLed during a provider call, a second worker running → the call is retried on the
 *   second one after the heartbeat timeout (not the start-to-close timeout); one charge.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { temporal } from '@temporalio/proto';
import type { Pool } from 'pg';
import { createApiKey } from '../../lib/security/api-keys';
import type { Config } from '../../lib/config/config';
import type { ProviderRegistry } from '../../lib/config/registry';
import { msToNumber } from '@temporalio/common/lib/time';
import { activityPolicies } from '../../workflows/policies';
import { startFakeProviders, type FakeProviders } from '../fakes/provider-server';
import { assertApiBuilt, startApiProcess, type ApiProcess } from '../support/api-process';
import { eventually, registryAt, startApi, startWorker, testConfig, testPool, type RunningApi, type RunningWorker } from '../support/harness';
import { assertWorkerBuilt, exited, startWorkerProcess } from '../support/worker-process';

let pool: Pool;
let fakes: FakeProviders;
let registry: ProviderRegistry;
const children: ChildProcess[] = [];

beforeAll(async () => {
  assertApiBuilt();
  assertWorkerBuilt();
  pool = testPool();
  fakes = await startFakeProviders();
  registry = registryAt(fakes.url);
});

beforeEach(() => fakes.reset());

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(children.map(exited));
  await fakes?.close();
  await pool?.end();
});

const stripeCalls = () => fakes.requests({ provider: 'stripe', operation: 'createPaymentIntent' });

/** Resolves true when a new TCP connection to the port is refused. */
function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

function messages(api: ApiProcess): string[] {
  return api.logs().map((line) => line.msg);
}

describe('API process', () => {
  let config: Config;
  let worker: RunningWorker;
  let authorization: string;

  beforeAll(async () => {
    config = testConfig();
    worker = await startWorker(config, pool, { registry });
    authorization = `Bearer ${(await createApiKey(pool, { tenant: config.DEFAULT_TENANT, role: 'admin', name: 'shutdown test' })).key}`;
  }, 60_000);

  afterAll(async () => {
    await worker?.stop();
  });

  async function startApiChild(graceMs: number): Promise<ApiProcess> {
    const api = await startApiProcess(config, registry, fakes.url, { SHUTDOWN_GRACE_MS: String(graceMs) });
    children.push(api.child);
    return api;
  }

  const postCall = (api: ApiProcess, waitMs: number) =>
    fetch(`${api.url}/calls/stripe/createPaymentIntent?wait=${waitMs}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID(), authorization },
      body: JSON.stringify({ params: { amount: 1200, currency: 'usd', customer: 'cus_shutdown' } }),
    });

  test('SIGTERM: the in-flight request gets its normal answer, new connections are refused, exit 0 within the bound', async () => {
    const graceMs = 10_000;
    const api = await startApiChild(graceMs);
    fakes.addFault({ provider: 'stripe', operation: 'createPaymentIntent', kind: 'latency', latencyMs: 3000, times: 1 });
    const inFlight = postCall(api, 10_000);
    // The provider has the request: the API is now waiting for the workflow's result.
    await eventually(() => Promise.resolve(stripeCalls().length === 1 ? true : undefined));

    const signalledAt = Date.now();
    api.child.kill('SIGTERM');
    await eventually(() => refusesConnections(api.port).then((refused) => (refused ? true : undefined)), 5_000);
    expect(api.child.exitCode).toBeNull(); // still draining

    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.headers.get('connection')).toBe('close');
    const body = (await res.json()) as { status: string; result: { data: { id: string } } };
    expect(body.status).toBe('completed');
    expect(body.result.data.id).toMatch(/^pi_/);

    const { code } = await api.exit;
    expect(code).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(graceMs);
    expect(messages(api)).toEqual(
      expect.arrayContaining([
        'api shutting down: no new connections',
        'http server closed: every request finished or cut off',
        'temporal connection closed',
        'postgres pool closed',
        'api stopped',
      ]),
    );
    expect(api.logs().find((l) => l.msg === 'api shutting down: no new connections')).toMatchObject({ signal: 'SIGTERM', inFlight: 1 });
    expect(api.logs().find((l) => l.msg === 'api stopped')).toMatchObject({ exitCode: 0, cutOff: 0 });
  });

  test('SIGTERM: an open SSE stream ends at once and does not hold the shutdown', async () => {
    const graceMs = 10_000;
    const api = await startApiChild(graceMs);
    const res = await fetch(`${api.url}/stream`, { headers: { authorization, accept: 'text/event-stream' } });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let received = '';
    while (!received.includes('event: ready')) {
      const chunk = await reader.read();
      if (chunk.done) throw new Error(`stream ended before ready: ${received}`);
      received += decoder.decode(chunk.value as Uint8Array); // a byte stream: fetch types its chunks as any
    }

    const signalledAt = Date.now();
    api.child.kill('SIGTERM');
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
    }
    const { code } = await api.exit;
    expect(code).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(3_000);
    expect(api.logs().find((l) => l.msg === 'event streams ended')).toMatchObject({ streams: 1 });
    expect(messages(api)).toContain('postgres pool closed');
  });

  test('SIGTERM with a request outliving SHUTDOWN_GRACE_MS: it is cut off, counted, and the exit code is 1', async () => {
    const graceMs = 1_000;
    const api = await startApiChild(graceMs);
    fakes.addFault({ provider: 'stripe', operation: 'createPaymentIntent', kind: 'latency', latencyMs: 8000, times: 1 });
    const inFlight = postCall(api, 10_000).then(
      (res) => res.status,
      (err: unknown) => String(err), // jest's realm: undici's TypeError is not this realm's Error
    );
    await eventually(() => Promise.resolve(stripeCalls().length === 1 ? true : undefined));

    const signalledAt = Date.now();
    api.child.kill('SIGTERM');
    const { code } = await api.exit;
    expect(code).toBe(1);
    expect(Date.now() - signalledAt).toBeLessThan(graceMs + 3_000);
    expect(await inFlight).toMatch(/fetch failed/); // no answer: the connection was closed under it
    expect(api.logs().find((l) => l.msg === 'grace time over: cutting off requests still in flight')).toMatchObject({ cutOff: 1 });
    expect(api.logs().find((l) => l.msg === 'api stopped')).toMatchObject({ exitCode: 1, cutOff: 1 });
  });
});

describe('worker process', () => {
  let config: Config;
  let api: RunningApi;

  beforeAll(async () => {
    config = testConfig();
    api = await startApi(config, pool, registry);
  });

  afterAll(async () => {
    await api?.close();
  });

  async function startWorkerChild(): Promise<ChildProcess & { logs: string[] }> {
    const child = await startWorkerProcess(config, registry, fakes.url, { SHUTDOWN_GRACE_MS: '15000' });
    children.push(child);
    const logs: string[] = [];
    let partial = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      logs.push(...lines.filter((line) => line.startsWith('{')));
    });
    return Object.assign(child, { logs });
  }

  async function startCall(customer: string): Promise<string> {
    const res = await api.fetch('/calls/stripe/createPaymentIntent?wait=0', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify({ params: { amount: 4200, currency: 'usd', customer } }),
    });
    expect(res.status).toBe(202);
    return ((await res.json()) as { workflowId: string }).workflowId;
  }

  async function activityEvents(workflowId: string) {
    const history = await api.workflows.getHandle(workflowId).fetchHistory();
    const events = history.events ?? [];
    return {
      started: events.flatMap((e) => (e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes] : [])),
      completed: events.flatMap((e) => (e.activityTaskCompletedEventAttributes ? [e.activityTaskCompletedEventAttributes] : [])),
    };
  }

  test('SIGTERM during a provider call: the activity finishes, one provider request, exit 0, the workflow completes', async () => {
    fakes.addFault({ provider: 'stripe', operation: 'createPaymentIntent', kind: 'latency', latencyMs: 4000, times: 1 });
    const first = await startWorkerChild();
    const workflowId = await startCall('cus_drain');
    await eventually(() => Promise.resolve(stripeCalls().length === 1 ? true : undefined));

    first.kill('SIGTERM');
    const exitCode = await new Promise<number | null>((resolve) => {
      if (first.exitCode !== null || first.signalCode !== null) resolve(first.exitCode);
      else first.once('exit', (code) => resolve(code));
    });
    expect(exitCode).toBe(0);
    const logged = first.logs.map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(logged).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^worker shutting down/),
        'workers drained',
        'temporal connection closed',
        'postgres pool closed',
        'worker stopped',
      ]),
    );
    // The activity was completed by the worker that was told to stop, before it exited.
    const { completed } = await activityEvents(workflowId);
    expect(completed).toHaveLength(1);
    expect(completed[0]!.identity).toMatch(new RegExp(`^${first.pid}@`));

    // The rest of the workflow runs on another worker.
    const second = await startWorkerChild();
    const result = (await api.workflows.getHandle(workflowId).result()) as { data: { id: string } };
    expect(result.data.id).toMatch(/^pi_/);
    expect(stripeCalls()).toHaveLength(1);
    expect(fakes.state().charges).toBe(1);
    second.kill('SIGTERM'); // nothing in flight: it stops at once
    await exited(second);
    expect(second.exitCode).toBe(0);
  }, 90_000);

  test('SIGKILL during a provider call with a second worker running: retried there after the heartbeat timeout', async () => {
    const heartbeatTimeoutMs = msToNumber(activityPolicies.callProvider.heartbeatTimeout);
    const startToCloseMs = msToNumber(activityPolicies.callProvider.startToCloseTimeout);
    // Answered only after 60 s: without heartbeats the retry would wait for the start-to-close timeout.
    fakes.addFault({ provider: 'stripe', operation: 'createPaymentIntent', kind: 'latency', latencyMs: 60_000, times: 1 });
    const workers = await Promise.all([startWorkerChild(), startWorkerChild()]);
    const workflowId = await startCall('cus_kill');
    await eventually(() => Promise.resolve(stripeCalls().length === 1 ? true : undefined));

    // Kill the worker running the attempt (either may have picked it up).
    const identity = await eventually(async () => {
      const { raw } = await api.workflows.getHandle(workflowId).describe();
      return raw.pendingActivities?.[0]?.lastWorkerIdentity || undefined;
    });
    const victim = workers.find((w) => identity.startsWith(`${w.pid}@`));
    if (!victim) throw new Error(`no worker process has identity ${identity} (pids ${workers.map((w) => w.pid).join(', ')})`);
    const survivor = workers.find((w) => w !== victim)!;
    const killedAt = Date.now();
    victim.kill('SIGKILL');
    await exited(victim);

    const result = (await api.workflows.getHandle(workflowId).result()) as { data: { id: string } };
    expect(result.data.id).toMatch(/^pi_/);
    const attempts = stripeCalls();
    expect(attempts).toHaveLength(2);
    expect(attempts[1]!.idempotencyKey).toBe(attempts[0]!.idempotencyKey);
    expect(attempts[1]!.replayed).toBe(true);
    expect(fakes.state().charges).toBe(1);
    // Retried after the heartbeat timeout, well before the start-to-close timeout would have fired.
    const retriedAfterMs = Date.parse(attempts[1]!.at) - killedAt;
    expect(retriedAfterMs).toBeLessThan(startToCloseMs - 2_000);
    const { started, completed } = await activityEvents(workflowId);
    expect(started).toHaveLength(1); // the last attempt's start, carrying the previous attempt's failure
    expect(started[0]!.attempt).toBe(2);
    expect(started[0]!.lastFailure?.timeoutFailureInfo?.timeoutType).toBe(temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_HEARTBEAT);
    expect(completed[0]!.identity).toMatch(new RegExp(`^${survivor.pid}@`));
    expect(heartbeatTimeoutMs).toBeLessThan(startToCloseMs);
  }, 90_000);
});
