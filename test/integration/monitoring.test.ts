/**
 * Monitoring on the real Temporal dev server and PostgreSQL, against the fake providers, a local
 * SMTP sink and a local webhook sink: a provider going down is probed, scored, alerted, escalated
 * on durable timers, acknowledged and resolved; critical alerts use every channel at once (SMS
 * through the provider-call path); SLA figures from a known history; idempotent Schedules; the
 * live stream and the monitoring metrics.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Client, ScheduleNotFoundError } from '@temporalio/client';
import type { Pool } from 'pg';
import { SMTPServer } from 'smtp-server';
import type { Config } from '../../lib/config/config';
import { connectClient } from '../../lib/temporal/connection';
import type { ProviderConfig, ProviderRegistry } from '../../lib/config/registry';
import { desiredSchedules, probeScheduleId, slaScheduleId, syncSchedules } from '../../workers/schedules';
import {
  ackAlertSignal,
  alertStatusQuery,
  alertWorkflowId,
  resolveAlertSignal,
  type AlertInput,
  type AlertView,
  type ProbeOutcome,
  type SlaProviderReport,
  type SlaReportInput,
} from '../../contracts/monitoring';
import type { healthProbe, slaReport } from '../../workflows/monitoring';
import type { FakeProviders } from '../fakes/provider-server';
import { upsertAlert } from '../../lib/data/alerts';
import { upsertSlaReport } from '../../lib/data/sla-reports';
import { eventually, fakeCredentials, startStack, type RunningApi, type TestStack } from '../support/harness';

/** Unique provider names per run: health, probes, circuits and alerts are shared state. */
const run = randomUUID().slice(0, 8);
const names = { probed: `probed-${run}`, sla: `sla-${run}`, critical: `critical-${run}`, refused: `refused-${run}` };
const ESCALATION_MS = 3000;

interface SinkRequest {
  path: string;
  body: Record<string, unknown>;
  at: number;
}
interface Mail {
  to: string;
  raw: string;
  at: number;
}

let stack: TestStack;
let pool: Pool;
let fakes: FakeProviders;
let config: Config;
let registry: ProviderRegistry;
let api: RunningApi;
let client: Client;
let sink: Server;
let sinkUrl: string;
const sinkRequests: SinkRequest[] = [];
let smtp: SMTPServer;
let smtpPort: number;
const mails: Mail[] = [];

function startSink(): Promise<Server> {
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (chunk: Buffer) => (data += chunk.toString()));
    req.on('end', () => {
      sinkRequests.push({ path: req.url ?? '', body: JSON.parse(data || '{}') as Record<string, unknown>, at: Date.now() });
      res.writeHead(200).end('ok');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function startSmtp(): Promise<SMTPServer> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      let raw = '';
      stream.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address).join(','), raw, at: Date.now() });
        callback();
      });
    },
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

beforeAll(async () => {
  sink = await startSink();
  sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  smtp = await startSmtp();
  // smtp-server's typings do not expose its net.Server; it is there at runtime.
  smtpPort = ((smtp as unknown as { server: Server }).server.address() as AddressInfo).port;
  ({ pool, fakes, config, registry, api } = stack = await startStack({
    registry: (r) => {
      const clone = (base: ProviderConfig, name: string, change: Partial<ProviderConfig> = {}): void => {
        r[name] = { ...structuredClone(base), name, ...change };
      };
      // Only what these tests use: twilio (+ its backup) for alert SMS, and three stripe-like providers.
      for (const name of Object.keys(r)) if (name !== 'twilio' && name !== 'backup-sms' && name !== 'stripe') delete r[name];
      const stripe = r.stripe!;
      delete r.stripe;
      clone(stripe, names.probed, { circuit: { ...stripe.circuit, failureThreshold: 2, coolDownSeconds: 1, successThreshold: 1 } });
      clone(stripe, names.sla, { sla: { availability: 0.999, p95Ms: 2000, errorRate: 0.01 } });
      clone(stripe, names.critical);
      clone(stripe, names.refused);
      for (const provider of Object.values(r)) provider.probe = { ...provider.probe, intervalSeconds: 3600 };
    },
    worker: {
      env: {
        ...fakeCredentials,
        ALERT_WEBHOOK_URL: `${sinkUrl}/alerts`,
        ALERT_SLACK_WEBHOOK_URL: `${sinkUrl}/slack`,
        ALERT_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
        ALERT_EMAIL_TO: 'oncall@example.test',
        ALERT_SMS_TO: '+15551230000',
        ALERT_ESCALATION_HIGH: `${ESCALATION_MS}ms`,
        ALERT_ESCALATION_MEDIUM: `${ESCALATION_MS}ms`,
        HEALTH_DEGRADED_BELOW: '0.3',
      },
    },
  }));
  client = await connectClient(config.TEMPORAL_ADDRESS, config.TEMPORAL_NAMESPACE, config.PAYLOAD_ENCRYPTION_KEYS);
});

afterAll(async () => {
  await client?.connection.close();
  await stack?.close();
  await new Promise((resolve) => sink?.close(resolve));
  await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
});

beforeEach(() => {
  fakes.clearFaults();
});

async function probe(provider: string): Promise<ProbeOutcome> {
  return client.workflow.execute<typeof healthProbe>('healthProbe', {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowId: `test-health-probe:${provider}:${randomUUID()}`,
    args: [{ provider }],
  });
}

async function getJson<T>(path: string): Promise<T> {
  const res = await api.fetch(`${path}`);
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

interface AlertJson {
  id: string;
  state: string;
  severity: string;
  escalationLevel: number;
  notifications: Array<{ channel: string; level: number; event: string; ok: boolean }>;
  startedAt: string;
}

/** Reads Server-Sent Events from GET /stream into `events` until stopped. */
async function openStream(query: string): Promise<{ events: Array<{ event: string; data: Record<string, unknown> }>; stop(): void }> {
  const controller = new AbortController();
  const res = await api.fetch(`/stream?${query}`, { signal: controller.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const events: Array<{ event: string; data: Record<string, unknown> }> = [];
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
        }
      }
    } catch {
      // aborted by stop()
    }
  })();
  await eventually(() => Promise.resolve(events.some((e) => e.event === 'ready') ? true : undefined));
  return { events, stop: () => controller.abort() };
}

test('provider down → probe records it → score drops → alert fires → escalates → ack stops escalation → recovery resolves it', async () => {
  const provider = names.probed;
  const alertId = alertWorkflowId('provider-down', provider);
  const stream = await openStream('topics=provider,alert');
  const smsAtStart = fakes.state().sms.twilio;
  try {
    const healthy = await probe(provider);
    expect(healthy).toMatchObject({ provider, ok: true, status: 200, score: 1, providerStatus: 'up' });

    // The provider goes down: its probe endpoint answers 503 (fault on the fake's probe route).
    fakes.addFault({ provider: 'stripe', operation: 'probe', kind: 'status', status: 503 });
    const down = await probe(provider);
    expect(down).toMatchObject({ provider, ok: false, status: 503, providerStatus: 'down', previousStatus: 'up' });
    expect(down.score).toBeLessThan(healthy.score);
    const probes = await pool.query<{ ok: boolean; status: number }>('SELECT ok, status FROM probe_results WHERE provider = $1 ORDER BY id', [provider]);
    expect(probes.rows).toEqual([{ ok: true, status: 200 }, { ok: false, status: 503 }]);
    const health = await getJson<{ providers: Array<{ provider: string; status: string; score: number }> }>('/provider-health');
    expect(health.providers.find((p) => p.provider === provider)).toMatchObject({ status: 'down', score: down.score });

    // The alert fires once, at once on email and chat (generic webhook + Slack): high's row of the escalation table.
    const firing = await eventually(async () => {
      const { alerts } = await getJson<{ alerts: AlertJson[] }>('/alerts?state=firing');
      const found = alerts.find((a) => a.id === alertId);
      return found && found.notifications.length >= 3 ? found : undefined;
    });
    expect(firing).toMatchObject({ severity: 'high', escalationLevel: 0 });
    expect(firing.notifications.map((n) => n.channel).sort()).toEqual(['email', 'slack', 'webhook']);
    const webhookCalls = () => sinkRequests.filter((r) => r.path === '/alerts' && (r.body.alert as AlertView).id === alertId);
    expect(webhookCalls()).toHaveLength(1);
    expect(sinkRequests.some((r) => r.path === '/slack' && String(r.body.text).includes(alertId))).toBe(true);
    const mail = await eventually(() => Promise.resolve(mails.find((m) => m.raw.includes(alertId))), 30_000);
    expect(mail.to).toBe('oncall@example.test');

    // Still down on the next probe (and the circuit opened after the 2nd failure): no second alert.
    const stillDown = await probe(provider);
    expect(stillDown.providerStatus).toBe('down');
    expect(stillDown.circuit).toBe('open');

    // No ack: after ALERT_ESCALATION_HIGH, SMS (level 1), sent through the provider-call path.
    const texted = await eventually(async () => {
      const v = await client.workflow.getHandle(alertId).query(alertStatusQuery);
      return v.notifications.find((n) => n.channel === 'sms');
    }, 30_000);
    expect(texted).toMatchObject({ level: 1, ok: true });
    expect(Date.parse(texted.at) - Date.parse(firing.startedAt)).toBeGreaterThanOrEqual(ESCALATION_MS - 100);
    expect(fakes.state().sms.twilio).toBe(smsAtStart + 1);
    expect(webhookCalls()).toHaveLength(1);

    // Ack (signal through the API): nothing further is sent.
    const ack = await api.fetch(`/alerts/${encodeURIComponent(alertId)}/ack`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ by: 'oncall-jane' }),
    });
    expect(ack.status).toBe(202);
    const acked = await eventually(async () => {
      const v = await client.workflow.getHandle(alertId).query(alertStatusQuery);
      return v.state === 'acknowledged' ? v : undefined;
    });
    expect(acked.acknowledgedBy).toBe('oncall-jane');
    expect(acked.acknowledgedAtLevel).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, ESCALATION_MS + 1500));
    const afterWait = await client.workflow.getHandle(alertId).query(alertStatusQuery);
    expect(afterWait.escalationLevel).toBe(1);
    expect(afterWait.notifications.length).toBe(acked.notifications.length);
    expect(fakes.state().sms.twilio).toBe(smsAtStart + 1);
    const listed = await getJson<{ alerts: AlertJson[] }>('/alerts?state=acknowledged');
    expect(listed.alerts.map((a) => a.id)).toContain(alertId);

    // The provider recovers: the next probe resolves the alert and closes the circuit.
    fakes.clearFaults();
    const recovered = await probe(provider);
    expect(recovered).toMatchObject({ ok: true, providerStatus: 'up', previousStatus: 'down', circuit: 'closed' });
    const final = (await client.workflow.getHandle(alertId).result()) as AlertView;
    expect(final).toMatchObject({ state: 'resolved', acknowledgedBy: 'oncall-jane' });
    expect(final.resolveReason).toContain('answered its probe');
    const resolved = await getJson<{ alerts: AlertJson[] }>('/alerts?state=resolved');
    expect(resolved.alerts.find((a) => a.id === alertId)).toBeDefined();
    await eventually(() => Promise.resolve(webhookCalls().some((r) => r.body.event === 'resolved') ? true : undefined));

    // The stream saw the status changes and the alert's life.
    await eventually(() => {
      const mine = stream.events.filter((e) => e.data.provider === provider);
      const statuses = mine.filter((e) => e.event === 'provider').map((e) => e.data.status);
      const states = mine.filter((e) => e.event === 'alert').map((e) => e.data.state);
      return statuses.includes('down') && statuses.includes('up') && states.includes('firing') && states.includes('acknowledged') && states.includes('resolved')
        ? Promise.resolve(true)
        : Promise.resolve(undefined);
    });
  } finally {
    stream.stop();
  }
});

test('a probe answered 401 or 403 counts as failing ("credentials refused"), carries the credentials, and /provider-health agrees', async () => {
  const provider = names.refused;
  try {
    fakes.addFault({ provider: 'stripe', operation: 'probe', kind: 'status', status: 403 });
    const refused = await probe(provider);
    expect(refused).toMatchObject({ provider, ok: false, status: 403, error: 'credentials refused (HTTP 403)', providerStatus: 'down' });
    fakes.clearFaults();
    fakes.addFault({ provider: 'stripe', operation: 'probe', kind: 'status', status: 401 });
    expect(await probe(provider)).toMatchObject({ ok: false, status: 401, error: 'credentials refused (HTTP 401)', providerStatus: 'down' });
    const health = await getJson<{ providers: Array<{ provider: string; status: string; score: number; lastProbes: Array<{ ok: boolean; error: string | null }> }> }>('/provider-health');
    const mine = health.providers.find((p) => p.provider === provider)!;
    expect(mine.status).toBe('down');
    expect(mine.score).toBeLessThan(1);
    expect(mine.lastProbes.map((p) => [p.ok, p.error])).toEqual([[false, 'credentials refused (HTTP 401)'], [false, 'credentials refused (HTTP 403)']]);
    // The probe carries the provider's credentials as its registry entry says (Stripe: a bearer key).
    const sent = fakes.requests({ provider: 'stripe', operation: 'probe' }).at(-1)!;
    expect(sent.headers.authorization).toBe(`Bearer ${fakeCredentials.STRIPE_API_KEY}`);
  } finally {
    fakes.clearFaults();
    // Recovery resolves the provider-down alert (no open alert left for other tests).
    expect(await probe(provider)).toMatchObject({ ok: true, providerStatus: 'up' });
  }
});

test('a critical alert notifies every channel at once, SMS through the provider-call path; one condition is one alert', async () => {
  const input: AlertInput = { rule: 'test-critical', fingerprint: names.critical, severity: 'critical', summary: `${names.critical} on fire`, provider: names.critical };
  const id = alertWorkflowId(input.rule, input.fingerprint);
  const smsBefore = fakes.requests({ provider: 'twilio', operation: 'sendSms' }).length;
  const start = () =>
    client.workflow.signalWithStart('alert', {
      workflowId: id,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      args: [input],
      signal: 'raise',
      signalArgs: [{ summary: input.summary }],
    });
  const first = await start();
  const second = await start();
  expect(second.signaledRunId).toBe(first.signaledRunId);

  const view = await eventually(async () => {
    const v = await client.workflow.getHandle(id).query(alertStatusQuery);
    return v.notifications.length === 4 ? v : undefined;
  }, 45_000);
  expect(view.notifications.map((n) => [n.channel, n.level, n.ok]).sort()).toEqual([
    ['email', 0, true],
    ['slack', 0, true],
    ['sms', 0, true],
    ['webhook', 0, true],
  ]);
  // One SMS of this alert (counted by its text: another test's alert may text meanwhile).
  const mine = fakes.requests({ provider: 'twilio', operation: 'sendSms' }).slice(smsBefore).filter((r) => String((r.body as Record<string, string>).Body).includes(names.critical));
  expect(mine).toHaveLength(1);
  const sms = mine[0]!;
  expect(sms.body).toMatchObject({ To: '+15551230000' });
  expect(String((sms.body as Record<string, string>).Body)).toContain('[CRITICAL]');

  await client.workflow.getHandle(id).signal(resolveAlertSignal, { reason: 'test over' });
  const final = (await client.workflow.getHandle(id).result()) as AlertView;
  expect(final.state).toBe('resolved');
  expect(final.escalationLevel).toBe(0);
});

test('the escalation table on the real server: high acked in time never texts; medium is raised to high, then texts; low is email only', async () => {
  const raise = async (severity: AlertInput['severity']): Promise<string> => {
    const input: AlertInput = { rule: `test-escalation-${severity}`, fingerprint: run, severity, summary: `${severity} ${run}` };
    const id = alertWorkflowId(input.rule, input.fingerprint);
    await client.workflow.start('alert', { workflowId: id, taskQueue: config.TEMPORAL_TASK_QUEUE, args: [input] });
    return id;
  };
  const status = (id: string) => client.workflow.getHandle(id).query(alertStatusQuery);
  const channels = (view: AlertView, level: number) => view.notifications.filter((n) => n.level === level && n.event === 'firing').map((n) => n.channel).sort();
  const high = await raise('high');
  const medium = await raise('medium');
  const low = await raise('low');
  // Ack the high one at once: the wait passes and no SMS follows.
  await client.workflow.getHandle(high).signal(ackAlertSignal, { by: 'oncall' });

  // Medium: email + chat at once; after its wait raised to high (the same channels told again); after high's wait, SMS.
  const raised = await eventually(async () => {
    const v = await status(medium);
    return v.escalationLevel >= 2 && v.notifications.some((n) => n.channel === 'sms') ? v : undefined;
  }, 60_000);
  expect(raised.severity).toBe('high');
  expect(channels(raised, 0)).toEqual(['email', 'slack', 'webhook']);
  expect(channels(raised, 1)).toEqual(['email', 'slack', 'webhook']);
  expect(channels(raised, 2)).toEqual(['sms']);
  const at = (level: number) => Date.parse(raised.notifications.find((n) => n.level === level)!.at);
  // Each wait runs from the escalation, not from when that level's notifications were sent (`at`
  // is after they were): a level-1 notification delayed by a retried workflow task (the cache-off
  // step) shortened at(2) - at(1) to 2.6 s once. Measured from level 0, the waits add up.
  expect(at(1) - at(0)).toBeGreaterThanOrEqual(ESCALATION_MS - 100);
  expect(at(2) - at(0)).toBeGreaterThanOrEqual(2 * ESCALATION_MS - 100);
  expect(mails.some((m) => m.raw.includes(medium) && m.raw.includes('[HIGH]'))).toBe(true);
  const sms = fakes.requests({ provider: 'twilio', operation: 'sendSms' }).at(-1)!;
  expect(String((sms.body as Record<string, string>).Body)).toContain(`[HIGH] medium ${run}`);

  // By now both waits have passed for the other two as well.
  const acked = await status(high);
  expect(acked).toMatchObject({ state: 'acknowledged', escalationLevel: 0, acknowledgedAtLevel: 0, severity: 'high' });
  expect(channels(acked, 0)).toEqual(['email', 'slack', 'webhook']);
  expect(acked.notifications.some((n) => n.channel === 'sms')).toBe(false);
  const quiet = await status(low);
  expect(quiet).toMatchObject({ state: 'firing', escalationLevel: 0, severity: 'low' });
  expect(quiet.notifications.map((n) => n.channel)).toEqual(['email']);
  // SMS by alert (Twilio takes no idempotency key, so a retried send may repeat one; none may come from another alert).
  const texts = fakes.requests({ provider: 'twilio', operation: 'sendSms' }).map((r) => String((r.body as Record<string, string>).Body));
  expect(texts.filter((t) => t.includes(`] medium ${run}`)).length).toBeGreaterThanOrEqual(1);
  expect(texts.filter((t) => t.includes(`] high ${run}`) || t.includes(`] low ${run}`))).toEqual([]);

  for (const id of [high, medium, low]) await client.workflow.getHandle(id).signal(resolveAlertSignal, { reason: 'test over' });
  for (const id of [high, medium, low]) expect(((await client.workflow.getHandle(id).result()) as AlertView).state).toBe('resolved');
});

test('the SLA report computes availability, p95 and error rate from a known history and alerts on violations', async () => {
  const provider = names.sla;
  const end = new Date(Date.now() - 1000);
  const minutesAgo = (m: number) => new Date(end.getTime() - m * 60_000);
  // 20 probes in the window: latencies 100..2000 ms, the first two failed → availability 90%.
  for (let i = 0; i < 20; i++) {
    await pool.query('INSERT INTO probe_results (provider, ok, status, latency_ms, at) VALUES ($1, $2, $3, $4, $5)', [
      provider,
      i >= 2,
      i >= 2 ? 200 : 503,
      (i + 1) * 100,
      minutesAgo(55 - i * 2),
    ]);
  }
  // Outside the window: ignored.
  await pool.query('INSERT INTO probe_results (provider, ok, status, latency_ms, at) VALUES ($1, false, 503, 9000, $2)', [provider, minutesAgo(61)]);
  // 10 real calls of 50 ms, one failed → error rate 10%; probe outcomes in the same table are not calls.
  for (let i = 0; i < 10; i++) {
    await pool.query('INSERT INTO provider_call_outcomes (provider, operation, success, status, duration_ms, at) VALUES ($1, $2, $3, $4, 50, $5)', [
      provider,
      'createPaymentIntent',
      i !== 0,
      i !== 0 ? 200 : 500,
      minutesAgo(30 + i),
    ]);
  }
  await pool.query("INSERT INTO provider_call_outcomes (provider, operation, success, status, duration_ms, at) VALUES ($1, 'probe', false, 503, 7000, $2)", [provider, minutesAgo(5)]);

  const input: SlaReportInput = { window: 'hourly', end: end.toISOString(), providers: [provider] };
  const runReport = () =>
    client.workflow.execute<typeof slaReport>('slaReport', { taskQueue: config.TEMPORAL_TASK_QUEUE, workflowId: `test-sla-report:${provider}:${randomUUID()}`, args: [input] });
  const [report] = await runReport();
  // p95 (nearest rank) of 30 values (10 × 50 ms, then 100..2000 ms): the 29th, 1900 ms.
  expect(report).toMatchObject({ provider, window: 'hourly', probes: 20, calls: 10, availability: 0.9, p95Ms: 1900, errorRate: 0.1, compliant: false });
  expect(report!.violations).toEqual(['availability 90% < 99.9%', 'error rate 10% > 1%']);
  await runReport(); // the same period again overwrites, it does not add

  const history = await getJson<{ reports: SlaProviderReport[]; summary: { reports: number; compliant: number } }>(`/sla?provider=${provider}&window=hourly`);
  expect(history.reports).toHaveLength(1);
  expect(history.reports[0]).toMatchObject({ availability: 0.9, p95Ms: 1900, errorRate: 0.1, compliant: false });
  expect(history.summary).toEqual({ reports: 1, noData: 0, compliant: 0, complianceRatio: 0 });
  expect((await api.fetch(`/sla?window=weekly`)).status).toBe(400);

  const alertId = alertWorkflowId('sla-violation', `${provider}:hourly`);
  const alert = await eventually(async () => {
    const { alerts } = await getJson<{ alerts: AlertJson[] }>('/alerts?state=open');
    return alerts.find((a) => a.id === alertId);
  });
  expect(alert.severity).toBe('medium');

  const metrics = await api.scrapeMetrics();
  expect(metrics).toContain(`sla_availability_ratio{provider="${provider}",window="hourly"} 0.9`);
  expect(metrics).toMatch(new RegExp(`integration_health_score\\{provider="${names.probed}"\\} [0-9.]+`));
  expect(metrics).toContain(`integration_up{provider="${names.probed}"} 1`);
  expect(metrics).toMatch(new RegExp(`integration_probe_latency_seconds\\{provider="${names.probed}"\\}`));
  expect(metrics).toMatch(/alerts_firing\{rule="sla-violation",severity="medium",state="firing"\} [1-9]/);

  await client.workflow.getHandle(alertId).signal(resolveAlertSignal, { reason: 'test over' });
  await client.workflow.getHandle(alertId).result();
});

test('the SLA and alert lists page with a total, and the SLA summary covers every matching report, not only the page', async () => {
  const provider = names.sla;
  // Five daily reports: two without data, two compliant, one violated.
  const day = (n: number): string => new Date(Date.UTC(2020, 0, 1 + n)).toISOString();
  const target = { availability: 0.99, p95Ms: 1000, errorRate: 0.05 };
  for (let i = 0; i < 5; i++) {
    const noData = i < 2;
    await upsertSlaReport(pool, {
      provider,
      window: 'daily',
      periodStart: day(i),
      periodEnd: day(i + 1),
      probes: noData ? 0 : 10,
      calls: 0,
      availability: noData ? null : i === 4 ? 0.5 : 1,
      p95Ms: noData ? null : 100,
      errorRate: noData ? null : 0,
      target,
      violations: i === 4 ? ['availability 50% < 99%'] : [],
      compliant: i !== 4,
    });
  }
  type SlaPage = { reports: Array<{ periodEnd: string }>; total: number; summary: unknown };
  const pages: SlaPage[] = [];
  for (const offset of [0, 2, 4, 6]) pages.push(await getJson<SlaPage>(`/sla?provider=${provider}&window=daily&limit=2&offset=${offset}`));
  expect(pages.map((p) => p.reports.length)).toEqual([2, 2, 1, 0]);
  expect(pages.flatMap((p) => p.reports.map((r) => r.periodEnd))).toEqual([5, 4, 3, 2, 1].map(day));
  for (const page of pages) {
    expect(page.total).toBe(5);
    expect(page.summary).toEqual({ reports: 5, noData: 2, compliant: 2, complianceRatio: 2 / 3 });
  }

  // Alerts: three resolved rows of this run, found by walking the pages; pages do not overlap.
  const ids = [0, 1, 2].map((i) => `alert:test-paging:${run}:${i}`);
  for (const id of ids) {
    const at = new Date().toISOString();
    await upsertAlert(pool, {
      id, runId: randomUUID(), rule: 'test-paging', fingerprint: id, severity: 'low', summary: 'paging', provider, state: 'resolved',
      escalationLevel: 0, acknowledgedAtLevel: null, acknowledgedBy: null, startedAt: at, acknowledgedAt: null, resolvedAt: at,
      resolveReason: 'test', notifications: [],
    });
  }
  type AlertPage = { alerts: Array<{ id: string }>; total: number };
  const first = await getJson<AlertPage>('/alerts?state=resolved&limit=2');
  expect(first.alerts).toHaveLength(2);
  expect(first.total).toBeGreaterThanOrEqual(3);
  const second = await getJson<AlertPage>('/alerts?state=resolved&limit=2&offset=2');
  expect(second.alerts.map((a) => a.id)).not.toContain(first.alerts[0]!.id);
  const seen = new Set<string>();
  for (let offset = 0; offset < first.total + 2; offset += 100) {
    for (const alert of (await getJson<AlertPage>(`/alerts?state=resolved&limit=100&offset=${offset}`)).alerts) seen.add(alert.id);
  }
  expect(ids.every((id) => seen.has(id))).toBe(true);
  expect((await getJson<AlertPage>('/alerts?state=resolved&offset=1000000')).alerts).toEqual([]);
  for (const bad of ['-1', '1e3', '__proto__', '1000001']) {
    expect((await api.fetch(`/alerts?offset=${bad}`)).status).toBe(400);
    expect((await api.fetch(`/sla?offset=${bad}`)).status).toBe(400);
  }
});

test('schedules are created idempotently from the registry, keep an operator pause, and follow a removed provider', async () => {
  const idPrefix = `test-${run}:`;
  const small: ProviderRegistry = { [names.probed]: registry[names.probed]!, [names.sla]: registry[names.sla]! };
  const sync = (r: ProviderRegistry) => syncSchedules({ client, registry: r, taskQueue: config.TEMPORAL_TASK_QUEUE, idPrefix, initiallyPaused: true });
  const ids = desiredSchedules(small, config.TEMPORAL_TASK_QUEUE, idPrefix).map((s) => s.scheduleId);
  try {
    const first = await sync(small);
    expect(first.created.sort()).toEqual([...ids].sort());
    const second = await sync(small);
    expect(second).toMatchObject({ created: [], deleted: [] });
    expect(second.updated.sort()).toEqual([...ids].sort());

    const described = await client.schedule.getHandle(probeScheduleId(names.probed, idPrefix)).describe();
    expect(described.policies.overlap).toBe('SKIP');
    expect(described.spec.intervals?.[0]?.every).toBe(3_600_000);
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'healthProbe', args: [{ provider: names.probed }] });
    expect(described.state.paused).toBe(true);
    const daily = await client.schedule.getHandle(slaScheduleId('daily', idPrefix)).describe();
    expect(daily.action).toMatchObject({ workflowType: 'slaReport', args: [{ window: 'daily' }] });

    // Exactly one schedule per id after running the set-up twice.
    await eventually(async () => {
      const listed: string[] = [];
      for await (const s of client.schedule.list()) if (s.scheduleId.startsWith(idPrefix)) listed.push(s.scheduleId);
      return listed.length === ids.length && [...listed].sort().join() === [...ids].sort().join() ? true : undefined;
    });

    // A provider removed from the registry loses its schedule (listing is eventually consistent).
    const gone = probeScheduleId(names.sla, idPrefix);
    const { [names.sla]: _removed, ...without } = small;
    await eventually(async () => {
      await sync(without);
      try {
        await client.schedule.getHandle(gone).describe();
        return undefined;
      } catch (err) {
        return err instanceof ScheduleNotFoundError ? true : undefined;
      }
    });
    await client.schedule.getHandle(probeScheduleId(names.probed, idPrefix)).describe();
  } finally {
    for (const id of ids) await client.schedule.getHandle(id).delete().catch(() => undefined);
  }
});

test('the stream carries webhook outcomes (only the own tenant\'s) and budget warnings, published by database triggers', async () => {
  const stream = await openStream('topics=webhook,budget');
  try {
    const insertEvent = async (tenant: string, eventId: string) => {
      await pool.query(
        `INSERT INTO webhook_events (tenant, provider, event_id, event_type, workflow_id, status, payload, received_at, started_at)
         VALUES ($1, 'stripe', $2, 'payment_intent.succeeded', $3, 'processing', '{}', now(), now())`,
        [tenant, eventId, `webhook:${tenant}:stripe:${eventId}`],
      );
      await pool.query("UPDATE webhook_events SET status = 'completed' WHERE tenant = $1 AND event_id = $2", [tenant, eventId]);
    };
    await insertEvent(`other-${run}`, `evt_other_${run}`);
    await insertEvent(config.DEFAULT_TENANT, `evt_mine_${run}`);
    await pool.query(
      `INSERT INTO budget_alerts (provider, period, period_start, threshold, used_usd, budget_usd)
       VALUES ($1, 'daily', current_date, 85, 8.5, 10)`,
      [`budget-${run}`],
    );
    const budget = await eventually(() => Promise.resolve(stream.events.find((e) => e.event === 'budget' && e.data.provider === `budget-${run}`)));
    expect(budget.data).toMatchObject({ period: 'daily', threshold: 85, tenant: null });
    const webhooks = stream.events.filter((e) => e.event === 'webhook');
    expect(webhooks.map((e) => e.data.eventId)).toEqual([`evt_mine_${run}`]);
    expect(webhooks[0]!.data).toMatchObject({ status: 'completed', tenant: config.DEFAULT_TENANT, provider: 'stripe' });
  } finally {
    stream.stop();
    // Ledger rows are shared test state: other suites list the ledger per tenant.
    await pool.query('DELETE FROM webhook_events WHERE event_id IN ($1, $2)', [`evt_other_${run}`, `evt_mine_${run}`]);
    await pool.query('DELETE FROM budget_alerts WHERE provider = $1', [`budget-${run}`]);
  }
});

test('the stream refuses unknown topics', async () => {
  const res = await api.fetch(`/stream?topics=provider,nonsense`);
  expect(res.status).toBe(400);
  expect(await res.json()).toMatchObject({ error: 'invalid_request' });
});
