/**
 * Outbound provider calls on the real Temporal dev server and PostgreSQL, against the local fake
 * providers: idempotency, error classification, Retry-After, retries exhausted, circuit breaker
 * and failover, rate limits, budgets, the read-through cache and the booking saga's compensation.
 */
import { randomUUID } from 'node:crypto';
import { resolveAlertSignal } from '../../contracts/monitoring';
import { cacheMetricsRegistry } from '../../lib/data/provider-cache';
import { connectClient } from '../../lib/temporal/connection';
import type { ProviderConfig } from '../../lib/config/registry';
import type { FakeProviders } from '../fakes/provider-server';
import { eventually, sampleBooking, startStack, type RunningApi, type TestStack } from '../support/harness';

/** Unique provider names per run: circuits, outcomes and budgets are shared state in PostgreSQL. */
const run = randomUUID().slice(0, 8);
const names = {
  sms: `sms-${run}`,
  backupSms: `backup-sms-${run}`,
  budgeted: `budgeted-${run}`,
  limited: `limited-${run}`,
  flakyCalendar: `calendar-${run}`,
};

let stack: TestStack;
let fakes: FakeProviders;
let api: RunningApi;

beforeAll(async () => {
  ({ fakes, api } = stack = await startStack({
    config: { CALL_WAIT_MS: 45_000 },
    registry: (r) => {
      const clone = (base: ProviderConfig, name: string, change: Partial<ProviderConfig> = {}): void => {
        r[name] = { ...structuredClone(base), name, ...change };
      };
      clone(r['backup-sms']!, names.backupSms);
      clone(r.twilio!, names.sms, {
        circuit: { ...r.twilio!.circuit, failureThreshold: 2, coolDownSeconds: 60 },
        failover: { strategy: 'primary-secondary', backups: [names.backupSms] },
      });
      clone(r.stripe!, names.budgeted, {
        budget: { dailyUsd: 1, monthlyUsd: 100 },
        operations: { ...r.stripe!.operations, createPaymentIntent: { ...r.stripe!.operations.createPaymentIntent!, costUsd: 0.5 } },
      });
      clone(r.httpbin!, names.limited, { rateLimitPerSecond: 2 });
      clone(r['google-calendar']!, names.flakyCalendar);
    },
  }));
});

afterAll(() => stack?.close());

beforeEach(() => {
  fakes.clearFaults();
});

interface CallAnswer {
  status: number;
  json: {
    workflowId?: string;
    duplicate?: boolean;
    status?: string;
    result?: { servedBy: string; failedOver: boolean; data: Record<string, unknown> };
    error?: { message: string; type: string | null };
    reason?: string;
    fields?: Record<string, string>;
  };
}

async function call(provider: string, operation: string, body: unknown, key: string | null = randomUUID()): Promise<CallAnswer> {
  const res = await api.fetch(`/calls/${provider}/${operation}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as CallAnswer['json'] };
}

const payment = { params: { amount: 2500, currency: 'usd', customer: 'cus_1' } };

test('a call runs once; the same Idempotency-Key returns the same workflow and result without a second charge', async () => {
  const before = fakes.state().charges;
  const key = randomUUID();
  const first = await call('stripe', 'createPaymentIntent', payment, key);
  expect(first.status).toBe(200);
  expect(first.json).toMatchObject({ status: 'completed', duplicate: false, result: { servedBy: 'stripe', failedOver: false } });
  expect(first.json.result!.data.id).toMatch(/^pi_/);

  const again = await call('stripe', 'createPaymentIntent', payment, key);
  expect(again.status).toBe(200);
  expect(again.json).toMatchObject({ workflowId: first.json.workflowId, duplicate: true, status: 'completed', result: first.json.result });
  expect(fakes.state().charges).toBe(before + 1);

  const view = await (await api.fetch(`/calls/${encodeURIComponent(first.json.workflowId!)}`)).json();
  expect(view).toMatchObject({ executionStatus: 'COMPLETED', status: 'completed', servedBy: 'stripe' });
});

test('wait=0 answers at once: 202 running for a new or still-running call, the result for a finished duplicate', async () => {
  fakes.addFault({ provider: 'stripe', kind: 'latency', latencyMs: 1500, times: 1 });
  const key = randomUUID();
  const post = async () => {
    const res = await api.fetch('/calls/stripe/createPaymentIntent?wait=0', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(payment),
    });
    return { status: res.status, location: res.headers.get('location'), json: (await res.json()) as CallAnswer['json'] };
  };
  const first = await post();
  expect(first).toMatchObject({ status: 202, json: { status: 'running', duplicate: false } });
  expect(first.location).toMatch(new RegExp(`/calls/${encodeURIComponent(first.json.workflowId!)}$`));
  const again = await post();
  expect(again).toMatchObject({ status: 202, json: { workflowId: first.json.workflowId, status: 'running', duplicate: true } });
  const done = await eventually(async () => {
    const answer = await post();
    return answer.json.status === 'completed' ? answer : undefined;
  }, 20_000);
  expect(done).toMatchObject({ status: 200, json: { workflowId: first.json.workflowId, duplicate: true, result: { servedBy: 'stripe' } } });
});

test("calls are tenant-scoped: the tenant is in the workflow id and another tenant's id answers 404", async () => {
  const res = await api.fetch(`/tenants/tenant-b/calls/stripe/createPaymentIntent`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
    body: JSON.stringify(payment),
  });
  const answer = (await res.json()) as { workflowId: string; status: string };
  expect(answer).toMatchObject({ status: 'completed' });
  expect(answer.workflowId).toMatch(/^call:tenant-b:stripe:/);
  const id = encodeURIComponent(answer.workflowId);
  expect((await api.fetch(`/tenants/tenant-b/calls/${id}`)).status).toBe(200);
  expect((await api.fetch(`/calls/${id}`)).status).toBe(404);
  expect((await api.fetch(`/tenants/tenant-c/calls/${id}`)).status).toBe(404);
});

test('bad input gets a 4xx with a reason and starts nothing', async () => {
  const seen = fakes.requests().length;
  expect((await call('stripe', 'createPaymentIntent', payment, null)).status).toBe(400);
  expect((await call('nosuch', 'createPaymentIntent', payment)).status).toBe(404);
  expect((await call('stripe', 'nosuch', payment)).status).toBe(404);
  const invalid = await call('stripe', 'createPaymentIntent', { params: { currency: 'usd' } });
  expect(invalid.status).toBe(400);
  expect(invalid.json.fields).toHaveProperty('amount');
  expect(fakes.requests().length).toBe(seen);
});

test('a permanent provider error fails at once, non-retryable, with the provider code', async () => {
  const seen = fakes.requests({ provider: 'stripe' }).length;
  const declined = await call('stripe', 'createPaymentIntent', { params: { ...payment.params, paymentMethod: 'pm_card_chargeDeclined' } });
  expect(declined.json).toMatchObject({ status: 'failed', error: { type: 'ProviderRejected' } });
  expect(declined.json.error!.message).toMatch(/card_declined/);
  expect(fakes.requests({ provider: 'stripe' }).length).toBe(seen + 1);
});

test('429 with Retry-After is retried after exactly that delay', async () => {
  fakes.addFault({ provider: 'sendgrid', kind: 'rate-limit', retryAfterSeconds: 2, times: 1 });
  const seen = fakes.requests({ provider: 'sendgrid' }).length;
  const sent = await call('sendgrid', 'sendMail', { params: { to: 'a@example.com', subject: 'hi', text: 'hello' } });
  expect(sent.json).toMatchObject({ status: 'completed' });
  const [throttled, retried] = fakes.requests({ provider: 'sendgrid' }).slice(seen);
  expect(throttled!.status).toBe(429);
  expect(retried!.status).toBe(202);
  expect(Date.parse(retried!.at) - Date.parse(throttled!.at)).toBeGreaterThanOrEqual(1900);
});

test('5xx is retried with backoff until the policy gives up; the call fails with the last error', async () => {
  fakes.addFault({ provider: 'google-calendar', kind: 'status', status: 500 });
  const seen = fakes.requests({ provider: 'google-calendar' }).length;
  const failed = await call(names.flakyCalendar, 'insertEvent', {
    params: { calendarId: 'primary', summary: 'x', start: '2026-12-01T10:00:00Z', end: '2026-12-01T11:00:00Z' },
  });
  expect(failed.json).toMatchObject({ status: 'failed', error: { type: 'ProviderUnavailable' } });
  const attempts = fakes.requests({ provider: 'google-calendar' }).slice(seen);
  expect(attempts).toHaveLength(5); // maximumAttempts of the callProvider policy
  expect(new Set(attempts.map((a) => a.idempotencyKey)).size).toBe(1);
});

test('failures open the circuit; the call fails over to the backup, and the next one skips the open circuit', async () => {
  fakes.addFault({ provider: 'twilio', kind: 'status', status: 503 });
  const sms = { params: { to: '+14155550100', body: 'hello' } };
  const first = await call(names.sms, 'sendSms', sms);
  expect(first.json).toMatchObject({ status: 'completed', result: { servedBy: names.backupSms, failedOver: true } });

  const circuits = (await (await api.fetch(`/circuits`)).json()) as { circuits: Array<{ provider: string; state: string; remainingOpenMs: number }> };
  const circuit = circuits.circuits.find((c) => c.provider === names.sms);
  expect(circuit).toMatchObject({ state: 'open' });
  expect(circuit!.remainingOpenMs).toBeGreaterThan(0);
  const exported = await api.scrapeMetrics();
  expect(exported).toContain(`circuit_breaker_state{provider="${names.sms}"} 2`);

  const twilioBefore = fakes.requests({ provider: 'twilio' }).length;
  const second = await call(names.sms, 'sendSms', sms);
  expect(second.json).toMatchObject({ status: 'completed', result: { servedBy: names.backupSms, failedOver: true } });
  expect(fakes.requests({ provider: 'twilio' }).length).toBe(twilioBefore); // open circuit: not even tried
  const view = (await (await api.fetch(`/calls/${encodeURIComponent(second.json.workflowId!)}`)).json()) as {
    candidates: Array<{ provider: string; state: string; skippedBecause?: string }>;
  };
  expect(view.candidates[0]).toMatchObject({ provider: names.sms, state: 'skipped' });
});

test('a burst is spread out by the provider rate limit, not rejected', async () => {
  const seen = fakes.requests({ provider: 'http' }).length;
  const answers = await Promise.all(
    Array.from({ length: 8 }, (_, i) => call(names.limited, 'postAnything', { params: { body: { i } } })),
  );
  expect(answers.map((a) => a.json.status)).toEqual(Array(8).fill('completed'));
  const times = fakes
    .requests({ provider: 'http' })
    .slice(seen)
    .map((r) => Date.parse(r.at))
    .sort((a, b) => a - b);
  expect(times).toHaveLength(8);
  // 8 requests at 2/s cannot all start within 2 s
  expect(times[7]! - times[0]!).toBeGreaterThanOrEqual(2000);
});

test("GET /calls pages the tenant's calls with visibility's total; another tenant sees none of them", async () => {
  // The burst above made 8 calls of this run's own provider: wait until visibility lists them all.
  type CallPage = { calls: Array<{ workflowId: string; provider: string }>; total: number };
  const list = async (query: string, prefix = ''): Promise<CallPage> => {
    const res = await api.fetch(`${prefix}/calls?provider=${names.limited}&${query}`);
    expect(res.status).toBe(200);
    return (await res.json()) as CallPage;
  };
  const all = await eventually(async () => {
    const page = await list('limit=500');
    expect(page.calls.length).toBeGreaterThanOrEqual(8);
    expect(page.total).toBe(page.calls.length);
    return page;
  });
  const pages = [await list('limit=3'), await list('limit=3&offset=3'), await list('limit=3&offset=6')];
  expect(pages.flatMap((p) => p.calls.map((c) => c.workflowId))).toEqual(all.calls.map((c) => c.workflowId).slice(0, 9));
  for (const page of pages) expect(page.total).toBe(all.total);
  expect((await list(`limit=3&offset=${all.total}`)).calls).toEqual([]);
  expect(await list('limit=5', '/tenants/tenant-b')).toEqual({ calls: [], total: 0 });
  for (const bad of ['-1', '10001', 'x', '__proto__']) expect((await api.fetch(`/calls?offset=${bad}`)).status).toBe(400);
});

test('budgets: reserve before, refuse non-critical past 90% with 429, critical proceeds, alerts recorded', async () => {
  const first = await call(names.budgeted, 'createPaymentIntent', payment);
  expect(first.json).toMatchObject({ status: 'completed' });
  const refused = await call(names.budgeted, 'createPaymentIntent', payment);
  expect(refused.status).toBe(429);
  expect(refused.json.reason).toMatch(/daily budget/);
  const critical = await call(names.budgeted, 'createPaymentIntent', { ...payment, priority: 'critical' });
  expect(critical.json).toMatchObject({ status: 'completed' });

  const budgets = (await (await api.fetch(`/budgets`)).json()) as {
    budgets: Array<{ provider: string; daily: { usedUsd: number; percent: number }; alerts: Array<{ threshold: number }> }>;
  };
  const use = budgets.budgets.find((b) => b.provider === names.budgeted)!;
  expect(use.daily).toMatchObject({ usedUsd: 1, percent: 100 });
  // The 70/85/95% lines, and the 90% throttle the refusal reached.
  expect(use.alerts.map((a) => a.threshold).sort()).toEqual([70, 85, 90, 95]);
});

test('budget lines reach people: each crossing is one alert (warning, critical, emergency, throttle) per provider and period; a past period resolves them', async () => {
  // The test above crossed every line of the budgeted provider's day.
  const day = new Date().toISOString().slice(0, 10);
  const expected = { 'budget-warning': 'medium', 'budget-critical': 'high', 'budget-throttle': 'high', 'budget-emergency': 'critical' };
  const ids = Object.keys(expected).map((rule) => `alert:${rule}:${names.budgeted}:daily:${day}`);
  type Alert = { id: string; severity: string; state: string; provider: string; summary: string };
  const open = await eventually(async () => {
    const { alerts } = (await (await api.fetch('/alerts?state=open&limit=1000')).json()) as { alerts: Alert[] };
    const mine = alerts.filter((a) => ids.includes(a.id));
    return mine.length === ids.length ? mine : undefined;
  });
  for (const alert of open) {
    const rule = alert.id.split(':')[1] as keyof typeof expected;
    expect(alert).toMatchObject({ severity: expected[rule], provider: names.budgeted });
  }
  expect(open.find((a) => a.id.includes('budget-emergency'))!.summary).toMatch(/daily budget past 95% \(emergency\): \$1\.00 of \$1\.00/);

  // Another refusal in the same period pages nothing new.
  expect((await call(names.budgeted, 'createPaymentIntent', payment)).status).toBe(429);
  const { rows } = await stack.pool.query<{ n: string }>(`SELECT count(*) AS n FROM alerts WHERE id LIKE $1`, [`alert:budget-%:${names.budgeted}:%`]);
  expect(Number(rows[0]!.n)).toBe(4);

  // Yesterday's crossings (an alert still open) are resolved by the next reservation of the provider.
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  await stack.pool.query(
    `INSERT INTO budget_alerts (provider, period, period_start, threshold, used_usd, budget_usd, notified_at) VALUES ($1, 'daily', $2::date, 70, 0.7, 1, now())`,
    [names.budgeted, yesterday],
  );
  const stale = `alert:budget-warning:${names.budgeted}:daily:${yesterday}`;
  const client = await connectClient(stack.config.TEMPORAL_ADDRESS, stack.config.TEMPORAL_NAMESPACE, stack.config.PAYLOAD_ENCRYPTION_KEYS);
  try {
    await client.workflow.start('alert', {
      workflowId: stale,
      taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
      args: [{ rule: 'budget-warning', fingerprint: `${names.budgeted}:daily:${yesterday}`, severity: 'medium', summary: 'yesterday', provider: names.budgeted }],
    });
    await eventually(async () => ((await stack.pool.query('SELECT 1 FROM alerts WHERE id = $1', [stale])).rowCount === 1 ? true : undefined));
    expect((await call(names.budgeted, 'createPaymentIntent', { ...payment, priority: 'critical' })).json).toMatchObject({ status: 'completed' });
    const resolved = (await client.workflow.getHandle(stale).result()) as { state: string; resolveReason: string };
    expect(resolved).toMatchObject({ state: 'resolved', resolveReason: `the daily budget period from ${yesterday} is over` });
    const marked = await stack.pool.query<{ resolved: boolean }>(
      `SELECT resolved_at IS NOT NULL AS resolved FROM budget_alerts WHERE provider = $1 AND period_start = $2::date`,
      [names.budgeted, yesterday],
    );
    expect(marked.rows).toEqual([{ resolved: true }]);

    // Leave no open alert behind.
    for (const id of ids) await client.workflow.getHandle(id).signal(resolveAlertSignal, { reason: 'test over' });
  } finally {
    await client.connection.close();
  }
});

test('idempotent reads are cached per tenant and invalidated by prefix', async () => {
  const inserted = await call('google-calendar', 'insertEvent', {
    params: { calendarId: 'primary', summary: 'cached', start: '2026-12-01T10:00:00Z', end: '2026-12-01T11:00:00Z' },
  });
  const eventId = String(inserted.json.result!.data.id);
  const get = () => call('google-calendar', 'getEvent', { params: { calendarId: 'primary', eventId } });
  const reads = () => fakes.requests({ provider: 'google-calendar', operation: 'getEvent' }).length;
  const before = reads();
  expect((await get()).json.result!.data.id).toBe(eventId);
  expect((await get()).json.result!.data.id).toBe(eventId);
  expect(reads()).toBe(before + 1);

  const removed = (await (await api.fetch(`/cache?prefix=google-calendar:getEvent:`, { method: 'DELETE' })).json()) as { removed: number };
  expect(removed.removed).toBe(1);
  await get();
  expect(reads()).toBe(before + 2);
  const counters = await cacheMetricsRegistry.getSingleMetricAsString('provider_cache_requests_total');
  expect(counters).toMatch(/provider_cache_requests_total\{provider="google-calendar",operation="getEvent",result="hit"\} [1-9]/);
  expect(counters).toMatch(/provider_cache_requests_total\{provider="google-calendar",operation="getEvent",result="miss"\} [2-9]/);
});

describe('booking saga', () => {
  const booking = sampleBooking;
  const book = async (key = randomUUID(), change: Record<string, unknown> = {}) => {
    const res = await api.fetch(`/bookings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify({ ...booking, ...change }),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  test('charges, books the calendar, and confirms by SMS and email', async () => {
    const answer = await book();
    expect(answer.json).toMatchObject({ status: 'completed' });
    expect(answer.json.result).toMatchObject({ paymentIntentId: expect.stringMatching(/^pi_/) as unknown, smsSentBy: 'twilio' });
  });

  test('Google tokens are refreshed: bookings on either side of a token expiry, and a token the API refuses (401) replaced once', async () => {
    // The fake Google token endpoint's tokens live 3 s from now on; the worker has the refresh token
    // (test/fakes/credentials.ts) and a token cached by earlier tests, which the reset makes the fake forget.
    fakes.setGoogleTokenLifetime(3);
    fakes.reset();
    try {
      const refreshes = () => fakes.state().googleTokenRefreshes;
      const inserts = () => fakes.requests({ provider: 'google-calendar', operation: 'insertEvent' });
      // The forgotten token: 401, one refresh, the same request again, within the attempt.
      let sent = inserts().length;
      expect((await book()).json).toMatchObject({ status: 'completed' });
      const refused = inserts().slice(sent);
      expect(refused.map((r) => r.status)).toEqual([401, 200]);
      expect(refused[0]!.headers.authorization).not.toBe(refused[1]!.headers.authorization);
      expect(refreshes()).toBe(1);

      // Past the new token's expiry: it is not sent again; a fresh one is fetched first.
      await new Promise((resolve) => setTimeout(resolve, 3500));
      sent = inserts().length;
      expect((await book()).json).toMatchObject({ status: 'completed' });
      expect(inserts().slice(sent).map((r) => r.status)).toEqual([200]);
      expect(refreshes()).toBe(2);
    } finally {
      fakes.setGoogleTokenLifetime(3599);
    }
  });

  test("a PayPal vault id is accepted for the failover and never reaches Stripe's charge", async () => {
    const answer = await book(randomUUID(), { paypalVaultId: 'vault-abc_1' });
    expect(answer.json).toMatchObject({ status: 'completed' });
    const charge = fakes.requests({ provider: 'stripe', operation: 'createPaymentIntent' }).at(-1)!;
    expect(charge.body).toMatchObject({ amount: String(booking.amount) });
    expect(JSON.stringify(charge.body)).not.toContain('vault');
  });

  // A failed confirmation no longer undoes the booking; both saga outcomes (critical and not) are in degradation.test.ts.
  test('invalid booking → 400 naming the fields, nothing charged', async () => {
    const before = fakes.state().charges;
    const res = await api.fetch(`/bookings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify({ ...booking, phone: '555', email: 'nope', paypalVaultId: 'not a vault id' }),
    });
    expect(res.status).toBe(400);
    expect(Object.keys(((await res.json()) as { fields: object }).fields).sort()).toEqual(['email', 'paypalVaultId', 'phone']);
    expect(fakes.state().charges).toBe(before);
  });
});
