/**
 * The operator reads and actions the source systems exposed, on the real API, worker, Temporal and
 * PostgreSQL, through the HTTP API, the typed client and the built CLI: cache statistics counted
 * per tenant and namespace, circuit reset (audited; unknown providers 404), rate-limit status with
 * throttles, batch queue depth, alert statistics, the configuration and failover table without
 * secrets, and the performance report. Per-tenant reads never show another tenant's figures;
 * roles that may not read are refused; hostile names and parameters are 4xx.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { SwitchyardApiError, SwitchyardClient } from '../../client';
import { projectRoot } from '../../lib/config/paths';
import { parseApiKey } from '../../lib/security/api-keys';
import { eventually, fakeCredentials, startStack, type TestStack } from '../support/harness';

let stack: TestStack;
const run = randomUUID().slice(0, 8);
/** Two tenants of this run: every per-tenant figure is checked against the other's. */
const tenantA = `ops-a-${run}`;
const tenantB = `ops-b-${run}`;
const alertRule = `ops-stats-${run}`;

beforeAll(async () => {
  // Geocoding stays on Google: the shipped weighted failover would send some of these reads to Yandex.
  stack = await startStack({ registry: (r) => void (r['google-maps'] = { ...r['google-maps']!, failover: null }) });
}, 60_000);

afterAll(async () => {
  await stack?.pool.query('DELETE FROM alerts WHERE rule = $1', [alertRule]).catch(() => undefined);
  await stack?.pool.query(`UPDATE circuit_breakers SET state = 'closed', consecutive_failures = 0, open_until = NULL WHERE provider = 'twilio'`).catch(() => undefined);
  await stack?.close();
});

async function get<T>(route: string, key?: string): Promise<{ status: number; body: T }> {
  const res = await stack.api.fetch(route, key ? { headers: { authorization: `Bearer ${key}` } } : {});
  return { status: res.status, body: (await res.json()) as T };
}

async function post<T>(route: string, body: unknown, key?: string): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'idempotency-key': randomUUID() };
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await stack.api.fetch(route, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as T };
}

const clientAs = (key: string) => new SwitchyardClient({ baseUrl: stack.api.url, apiKey: key });

test('cache statistics count hits and misses per tenant and namespace, with live entries; never another tenant\'s', async () => {
  const address = `1 Ops Street ${run}`;
  const first = await post<{ status: string; result: { cached?: boolean } }>(`/tenants/${tenantA}/calls/google-maps/geocode?wait=10000`, { params: { address } });
  expect(first.body.status).toBe('completed');
  expect(first.body.result.cached).not.toBe(true);
  const second = await post<{ status: string; result: { cached: boolean } }>(`/tenants/${tenantA}/calls/google-maps/geocode?wait=10000`, { params: { address } });
  expect(second.body).toMatchObject({ status: 'completed', result: { cached: true } });
  const other = await post<{ status: string }>(`/tenants/${tenantB}/calls/google-maps/geocode?wait=10000`, { params: { address } });
  expect(other.body).toMatchObject({ status: 'completed' });

  const operator = clientAs(await stack.api.keyFor('operator', tenantA));
  const stats = await operator.cacheStats({ provider: 'google-maps' });
  expect(stats.tenant).toBe(tenantA);
  const geocode = stats.namespaces.find((n) => n.namespace === 'google-maps/geocode')!;
  expect(geocode).toMatchObject({ provider: 'google-maps', operation: 'geocode', hits: 1, misses: 1, total: 2, hitRate: 50, entries: 1, ttlSeconds: 86400 });
  // Declared cached operations are listed from zero; other providers are filtered out.
  expect(stats.namespaces.find((n) => n.namespace === 'google-maps/reverseGeocode')).toMatchObject({ hits: 0, misses: 0, hitRate: null, entries: 0 });
  expect(stats.namespaces.every((n) => n.provider === 'google-maps')).toBe(true);
  expect(stats.totals).toMatchObject({ hits: 1, misses: 1, entries: 1 });

  // Tenant B sees its own miss only, through its own key and under its own path.
  const b = await get<{ namespaces: Array<{ namespace: string; hits: number; misses: number; entries: number }> }>(`/tenants/${tenantB}/cache/stats?provider=google-maps`);
  expect(b.body.namespaces.find((n) => n.namespace === 'google-maps/geocode')).toMatchObject({ hits: 0, misses: 1, entries: 1 });
  // B's key on A's path is refused, never A's figures.
  const crossed = await get<{ tenant?: string }>(`/tenants/${tenantA}/cache/stats`, await stack.api.keyFor('operator', tenantB));
  expect(crossed.status).toBe(404);
  expect(crossed.body.tenant).toBeUndefined();

  // Hostile and bad input: 4xx with a reason, before any query.
  expect((await get(`/tenants/${tenantA}/cache/stats?provider=constructor`)).status).toBe(404);
  expect((await get(`/tenants/${tenantA}/cache/stats?provider=__proto__`)).status).toBe(404);
  const proto = await get<{ error: string; fields: Record<string, string> }>(`/tenants/${tenantA}/cache/stats?__proto__=1`);
  expect(proto.status).toBe(400);
  expect(proto.body.fields).toHaveProperty('__proto__');
  for (const period of ['91d', '0h', '1y', 'abc', '']) {
    const bad = await get<{ fields: Record<string, string> }>(`/tenants/${tenantA}/cache/stats?period=${period}`);
    expect(bad.status).toBe(400);
    expect(bad.body.fields).toHaveProperty('period');
  }
  // A service key starts work; it does not read operator figures.
  expect((await get(`/tenants/${tenantA}/cache/stats`, await stack.api.keyFor('service', tenantA))).status).toBe(403);
}, 60_000);

test('rate-limit status: the registry limit, recent requests of every outcome, and throttles', async () => {
  stack.fakes.addFault({ provider: 'sendgrid', kind: 'rate-limit', retryAfterSeconds: 1, times: 1 });
  const sent = await post<{ status: string }>('/calls/sendgrid/sendMail?wait=15000', { params: { to: `rl-${run}@example.com`, subject: 'rate', text: 'limit' } });
  expect(sent.body).toMatchObject({ status: 'completed' });

  const limits = await clientAs(await stack.api.keyFor('operator')).rateLimits();
  const sendgrid = limits.providers.find((p) => p.provider === 'sendgrid')!;
  expect(sendgrid.limitPerSecond).toBe(stack.registry.sendgrid!.rateLimitPerSecond);
  expect(sendgrid.taskQueue).toBe(`${stack.config.PROVIDER_TASK_QUEUE_PREFIX}sendgrid`);
  expect(sendgrid.lastMinute.requests).toBeGreaterThanOrEqual(2); // the 429 and the retry
  expect(sendgrid.lastMinute.throttled).toBeGreaterThanOrEqual(1);
  expect(sendgrid.lastHour.throttled).toBeGreaterThanOrEqual(1);
  expect(sendgrid.lastMinute.perSecond).toBeGreaterThan(0);
  expect(sendgrid.lastThrottledAt).not.toBeNull();
  // Every registry provider is listed, from zero.
  expect(limits.providers.map((p) => p.provider).sort()).toEqual(Object.keys(stack.registry).sort());
}, 60_000);

test('circuit reset closes the circuit for every worker, is audited with who and when, and refuses unknown providers and roles that may not', async () => {
  await stack.pool.query(
    `INSERT INTO circuit_breakers (provider, state, consecutive_failures, opened_at, open_until) VALUES ('twilio', 'open', 7, now(), now() + interval '10 minutes')
     ON CONFLICT (provider) DO UPDATE SET state = 'open', consecutive_failures = 7, opened_at = now(), open_until = now() + interval '10 minutes'`,
  );
  const operatorKey = await stack.api.keyFor('operator');
  const reset = await clientAs(operatorKey).resetCircuit('twilio');
  expect(reset.before).toMatchObject({ provider: 'twilio', state: 'open', consecutiveFailures: 7 });
  expect(reset.before.remainingOpenMs).toBeGreaterThan(0);
  expect(reset.after).toEqual({ provider: 'twilio', state: 'closed', consecutiveFailures: 0, remainingOpenMs: 0, openUntil: null });
  expect(reset.resetBy).toBe(`api-key:${parseApiKey(operatorKey)!.keyId}`);
  const circuits = await clientAs(operatorKey).circuits();
  expect(circuits.circuits.find((c) => c.provider === 'twilio')).toMatchObject({ state: 'closed' });

  const audited = await eventually(async () => {
    const { rows } = await stack.pool.query<{ actor_id: string; role: string; target: string; outcome: string; detail: Record<string, unknown>; at: Date }>(
      `SELECT actor_id, role, target, outcome, detail, at FROM audit_log WHERE action = 'circuit.reset' AND actor_id = $1 ORDER BY at`,
      [parseApiKey(operatorKey)!.keyId],
    );
    return rows.length > 0 ? rows : undefined;
  });
  expect(audited[0]).toMatchObject({ role: 'operator', target: 'twilio', outcome: 'done', detail: { before: 'open', consecutiveFailures: 7 } });
  expect(Math.abs(audited[0]!.at.getTime() - Date.parse(reset.at))).toBeLessThan(5000);

  for (const provider of ['nope', 'constructor', '__proto__', 'toString']) {
    const unknown = await post<{ error: string; reason: string }>(`/circuits/${provider}/reset`, undefined, operatorKey);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe('unknown_provider');
  }
  const serviceKey = await stack.api.keyFor('service');
  await expect(clientAs(serviceKey).resetCircuit('twilio')).rejects.toMatchObject({ status: 403 });
  // The refused attempt is on record as denied, never as done.
  const denied = await eventually(async () => {
    const { rows } = await stack.pool.query<{ outcome: string; status: number }>(`SELECT outcome, status FROM audit_log WHERE action = 'circuit.reset' AND actor_id = $1`, [parseApiKey(serviceKey)!.keyId]);
    return rows.length > 0 ? rows : undefined;
  });
  expect(denied).toEqual([{ outcome: 'denied', status: 403 }]);
}, 60_000);

test("batch queue depth per provider and priority is the caller's tenant's; the flushed items show as requests saved in the performance report", async () => {
  // Low priority waits 10 s for its batch to fill (sendgrid's registry): both stay queued meanwhile.
  const mail = (to: string) => ({ params: { to, subject: `ops ${run}`, text: 'queued' }, priority: 'low' });
  const queued = await Promise.all([1, 2].map(async (i) => post<{ itemId: string; batched: boolean }>(`/tenants/${tenantA}/batches/sendgrid/sendMail`, mail(`q${i}-${run}@example.com`))));
  for (const answer of queued) expect(answer).toMatchObject({ status: 202, body: { batched: true } });

  const operator = clientAs(await stack.api.keyFor('operator', tenantA));
  const depth = await eventually(async () => {
    const list = await operator.batchQueues();
    const low = list.queues.find((q) => q.provider === 'sendgrid' && q.priority === 'low');
    return low?.queued === 2 ? list : undefined;
  }, 9000);
  expect(depth.tenant).toBe(tenantA);
  expect(depth.batches).toEqual([{ workflowId: `batch:${tenantA}:sendgrid:sendMail:low`, provider: 'sendgrid', operation: 'sendMail', priority: 'low', queued: 2, sent: 0 }]);
  expect(depth.truncated).toBe(false);
  // Tenant B has no batch of A's.
  const b = await get<{ queues: unknown[]; batches: unknown[] }>(`/tenants/${tenantB}/batch-queues`);
  expect(b.body).toMatchObject({ queues: [], batches: [] });

  // Once flushed: two items in one SendGrid request (one message, two personalizations).
  const report = await eventually(async () => {
    const r = await operator.performanceReport({ period: '1h' });
    return r.batching.items === 2 ? r : undefined;
  }, 30_000);
  expect(report.tenant).toBe(tenantA);
  expect(report.batching).toMatchObject({ items: 2, providerRequests: 1, requestsSaved: 1, reductionRatio: 0.5 });
  expect(report.batching.byOperation).toEqual([{ provider: 'sendgrid', operation: 'sendMail', items: 2, failed: 0, providerRequests: 1, requestsSaved: 1 }]);
  // The cache hit of the first test: one request and its cost (geocode: $0.005) not spent.
  expect(report.cache).toMatchObject({ hits: 1, misses: 1, hitRate: 50, requestsSaved: 1, usdSaved: 0.005 });
  expect(report.totals.requestsSaved).toBe(2);
  const maps = report.providers.find((p) => p.provider === 'google-maps')!;
  expect(maps.tenantSpentUsd).toBeCloseTo(0.005, 6);
  expect(maps.spentUsd).toBeGreaterThanOrEqual(0.01); // both tenants' misses: budgets are system-wide
  const sendgrid = report.providers.find((p) => p.provider === 'sendgrid')!;
  expect(sendgrid.requests).toBeGreaterThanOrEqual(3);
  if (sendgrid.budgetUsd !== null) expect(sendgrid.budgetPercent).toBeGreaterThanOrEqual(0);

  // B's report holds none of A's batching or cache hits.
  const other = await get<{ batching: { items: number }; cache: { hits: number; misses: number } }>(`/tenants/${tenantB}/reports/performance?period=1h`);
  expect(other.body.batching.items).toBe(0);
  expect(other.body.cache).toMatchObject({ hits: 0, misses: 1 });
  expect((await get(`/tenants/${tenantA}/reports/performance?period=100d`)).status).toBe(400);
}, 60_000);

test('alert statistics: counts by severity and state, time to acknowledge and to resolve over the period', async () => {
  type Stats = Awaited<ReturnType<SwitchyardClient['alertStatistics']>>;
  const operator = clientAs(await stack.api.keyFor('operator'));
  const before = await operator.alertStatistics({ period: '1h' });
  const insert = (id: string, severity: string, state: string, startedAgoS: number, ackAfterS: number | null, resolveAfterS: number | null) =>
    stack.pool.query(
      `INSERT INTO alerts (id, run_id, rule, fingerprint, severity, summary, state, started_at, acknowledged_at, resolved_at)
       VALUES ($1, 'run', $2, $1, $3, 'ops stats test', $4, now() - make_interval(secs => $5),
               now() - make_interval(secs => $5) + make_interval(secs => $6), now() - make_interval(secs => $5) + make_interval(secs => $7))`,
      [`alert:${alertRule}:${id}`, alertRule, severity, state, startedAgoS, ackAfterS, resolveAfterS],
    );
  await insert('a', 'low', 'resolved', 1200, 120, 600);
  await insert('b', 'low', 'acknowledged', 300, 60, null);
  await insert('c', 'critical', 'firing', 10, null, null);
  await insert('old', 'low', 'resolved', 7200, 10, 20); // before the period: not counted
  const after = await operator.alertStatistics({ period: '1h' });
  const of = (stats: Stats, severity: string) => stats.bySeverity.find((s) => s.severity === severity)!;
  expect(after.bySeverity.map((s) => s.severity)).toEqual(['critical', 'high', 'medium', 'low']);
  expect(after.totals.total - before.totals.total).toBe(3);
  const low = of(after, 'low');
  const lowBefore = of(before, 'low');
  expect(low.total - lowBefore.total).toBe(2);
  expect(low.acknowledged - lowBefore.acknowledged).toBe(1);
  expect(low.resolved - lowBefore.resolved).toBe(1);
  expect(low.timeToAcknowledge.count - lowBefore.timeToAcknowledge.count).toBe(2);
  expect(low.timeToResolve.count - lowBefore.timeToResolve.count).toBe(1);
  expect(low.timeToAcknowledge.maxSeconds).toBeGreaterThanOrEqual(120);
  expect(low.timeToResolve.maxSeconds).toBeGreaterThanOrEqual(600);
  expect(of(after, 'critical').firing - of(before, 'critical').firing).toBe(1);
  if (lowBefore.total === 0) {
    expect(low.timeToAcknowledge).toEqual({ count: 2, meanSeconds: 90, p50Seconds: 90, p95Seconds: 117, maxSeconds: 120 });
    expect(low.timeToResolve).toEqual({ count: 1, meanSeconds: 600, p50Seconds: 600, p95Seconds: 600, maxSeconds: 600 });
  }
  expect((await get('/alerts/statistics?period=91d')).status).toBe(400);
  expect((await get('/alerts/statistics?period=24h&__proto__=x')).status).toBe(400);
}, 30_000);

test('the configuration and failover table show values in force and credential variable names, never a secret', async () => {
  const secrets = {
    ALERT_SLACK_WEBHOOK_URL: `https://hooks.example.invalid/services/T0/B0/slack-token-${run}`,
    ALERT_SMTP_URL: `smtp://alerts:smtp-pass-${run}@mail.example.invalid:587`,
    ALERT_EMAIL_TO: `oncall-${run}@example.com`,
  };
  const saved = Object.fromEntries(Object.keys(secrets).map((name) => [name, process.env[name]]));
  Object.assign(process.env, secrets);
  let raw: string;
  let status: number;
  try {
    const res = await stack.api.fetch('/config', { headers: { authorization: `Bearer ${await stack.api.keyFor('operator')}` } });
    status = res.status;
    raw = await res.text();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
  expect(status).toBe(200);
  for (const secret of [...Object.values(secrets), `slack-token-${run}`, `smtp-pass-${run}`, ...Object.values(fakeCredentials)]) expect(raw).not.toContain(secret);
  const effective = JSON.parse(raw) as Awaited<ReturnType<SwitchyardClient['effectiveConfig']>>;
  const variable = (name: string) => [...effective.variables, ...effective.monitoring.variables].find((v) => v.name === name);
  expect(variable('ALERT_SLACK_WEBHOOK_URL')).toEqual({ name: 'ALERT_SLACK_WEBHOOK_URL', value: null, redacted: true });
  expect(variable('ALERT_SMTP_URL')).toMatchObject({ value: null, redacted: true });
  expect(variable('AUTH_JWT_SECRET')).toEqual({ name: 'AUTH_JWT_SECRET', value: null, redacted: false }); // unset
  expect(variable('DEFAULT_TENANT')).toMatchObject({ value: stack.config.DEFAULT_TENANT, redacted: false });
  expect(variable('ALERT_ESCALATION_HIGH')).toMatchObject({ value: 600_000, redacted: false });
  expect(effective.monitoring.error).toBeNull();
  const stripe = effective.providers.find((p) => p.name === 'stripe')!;
  expect(stripe.credentials).toEqual({ apiKey: 'STRIPE_API_KEY' });
  expect(stripe).toMatchObject({ kind: 'stripe', rateLimitPerSecond: stack.registry.stripe!.rateLimitPerSecond, failover: { strategy: 'primary-secondary', backups: ['paypal'] } });

  const failover = await clientAs(await stack.api.keyFor('operator')).failoverTable();
  expect(failover.failover.find((f) => f.provider === 'stripe')).toMatchObject({
    strategy: 'primary-secondary',
    backups: [{ provider: 'paypal', known: true }],
    operations: ['charge'],
  });
  expect(failover.single).toContain('sendgrid');
  expect((await get('/config', await stack.api.keyFor('service'))).status).toBe(403);
  expect((await get('/config/failover', await stack.api.keyFor('service'))).status).toBe(403);
});

const cliEntry = path.join(projectRoot, 'dist', 'cli', 'switchyard.js');

function cli(args: string[], key: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cliEntry, '--url', stack.api.url, '--key', key, ...args], { env: { PATH: process.env.PATH }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

(existsSync(cliEntry) ? test : test.skip)('the CLI reads each of them and resets a circuit (built dist/; run `npx tsc -p .` first)', async () => {
  const operatorA = await stack.api.keyFor('operator', tenantA);
  const cache = await cli(['--json', 'cache', 'stats', '--provider', 'google-maps'], operatorA);
  expect(cache.code).toBe(0);
  expect(JSON.parse(cache.stdout)).toMatchObject({ tenant: tenantA, totals: { hits: 1 } });
  const reset = await cli(['circuits', 'reset', 'twilio'], operatorA);
  expect(reset).toMatchObject({ code: 0 });
  expect(reset.stdout).toMatch(/^twilio: (closed|open|half_open) -> closed \(by api-key:/);
  const unknown = await cli(['circuits', 'reset', 'constructor'], operatorA);
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toMatch(/404 unknown_provider/);

  const commands = [
    [['cache', 'stats'], /^namespace\s+hits\s+misses\s+hit rate\s+entries/],
    [['rate-limits'], /^provider\s+limit\/s/],
    [['batches', 'queues'], /^provider\s+priority\s+queued/],
    [['alerts', 'stats', '--period', '1h'], /^severity\s+total/],
    [['config', 'failover'], /^provider\s+strategy/],
    [['config', 'show'], /^variable\s+value/],
    [['report', '--period', '1h'], new RegExp(`^tenant ${tenantA}`)],
  ] as const;
  // One at a time: several CLI processes at once outlast their timeout on a loaded machine.
  const outputs: Array<Awaited<ReturnType<typeof cli>>> = [];
  for (const [args] of commands) outputs.push(await cli([...args], operatorA));
  commands.forEach(([args, header], i) => {
    expect({ args, code: outputs[i]!.code, stderr: outputs[i]!.stderr }).toEqual({ args, code: 0, stderr: '' });
    expect(outputs[i]!.stdout).toMatch(header);
  });
  expect(outputs[0]!.stdout).toMatch(/google-maps\/geocode\s+1\s+1\s+50%\s+1/);
  for (const secret of Object.values(fakeCredentials)) expect(outputs[5]!.stdout).not.toContain(secret);

  // Checked before any request: exit 2 naming the option.
  const bad = await cli(['report', '--period', '1y'], operatorA);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/--period/);
  // A role that may not: exit 1 with the status.
  const denied = await cli(['config', 'show'], await stack.api.keyFor('service', tenantA));
  expect(denied.code).toBe(1);
  expect(denied.stderr).toMatch(/403/);
}, 300_000);

test('the client reports refusals typed', async () => {
  const operator = clientAs(await stack.api.keyFor('operator'));
  const refused = await operator.resetCircuit('no-such-provider').catch((err: unknown) => err);
  expect(refused).toBeInstanceOf(SwitchyardApiError);
  expect(refused).toMatchObject({ status: 404, error: 'unknown_provider' });
});
