/**
 * Discord as an alert channel on the real Temporal dev server and PostgreSQL, against the fake
 * Discord (test/fakes/discord.ts) and a local SMTP sink: a high alert notifies Discord and email
 * at once and tells Discord when resolved; a 429 with a fractional
 * `retry_after` (or only a `Retry-After` header) is waited out and the message delivered once;
 * alerts take their rule's, severity's or the default webhook; a webhook Discord refuses fails
 * only that notification. No webhook URL or token reaches a log line, the workflow history, the
 * alerts table or the API.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { SMTPServer } from 'smtp-server';
import type { Config } from '../../lib/config/config';
import { connectClient } from '../../lib/temporal/connection';
import { alertStatusQuery, alertWorkflowId, resolveAlertSignal, type AlertInput, type AlertView } from '../../contracts/monitoring';
import { startFakeDiscord, type FakeDiscord } from '../fakes/discord';
import { eventually, fakeCredentials, startApi, startWorker, testConfig, testPool, type RunningApi, type RunningWorker } from '../support/harness';

const run = randomUUID().slice(0, 8);
const ESCALATION_MS = 4000;
const ids = { fallback: '100000000000000001', routed: '100000000000000002', critical: '100000000000000003', revoked: '100000000000000004' };

let pool: Pool;
let discord: FakeDiscord;
let urls: Record<keyof typeof ids, string>;
let tokens: string[];
let config: Config;
let worker: RunningWorker;
let api: RunningApi;
let client: Client;
let smtp: SMTPServer;
const mails: Array<{ raw: string; at: number }> = [];
/** Everything written to stdout/stderr (the worker's and the SDK's logs) and the console while the tests run. */
const logged: string[] = [];
const restores: Array<() => void> = [];
/** What the stdout/stderr spies recorded so far. */
const written: Array<() => string[]> = [];

function captureLogs(): void {
  // Spies call through: the output still shows; their recorded calls are what was written.
  for (const stream of [process.stdout, process.stderr]) {
    const spy = jest.spyOn(stream, 'write');
    restores.push(() => {
      for (const [chunk] of spy.mock.calls) logged.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      spy.mockRestore();
    });
    written.push(() => spy.mock.calls.map(([chunk]) => (typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'))));
  }
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const spy = jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      logged.push(args.map((a) => (a instanceof Error ? `${a.message} ${String(a.stack)}` : typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
    });
    restores.push(() => spy.mockRestore());
  }
}

function startSmtp(): Promise<SMTPServer> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      let raw = '';
      stream.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      stream.on('end', () => {
        mails.push({ raw, at: Date.now() });
        callback();
      });
    },
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

beforeAll(async () => {
  captureLogs();
  pool = testPool();
  discord = await startFakeDiscord();
  urls = {
    fallback: discord.webhookUrl(ids.fallback),
    routed: discord.webhookUrl(ids.routed),
    critical: discord.webhookUrl(ids.critical),
    revoked: discord.webhookUrl(ids.revoked),
  };
  tokens = Object.values(urls).map((u) => u.split('/').at(-1)!);
  smtp = await startSmtp();
  const smtpPort = ((smtp as unknown as { server: Server }).server.address() as AddressInfo).port;
  config = testConfig();
  worker = await startWorker(config, pool, {
    env: {
      ...fakeCredentials,
      ALERT_DISCORD_WEBHOOK_URL: urls.fallback,
      ALERT_DISCORD_ROUTES: JSON.stringify({
        rule: { [`test-routed-${run}`]: urls.routed, [`test-revoked-${run}`]: urls.revoked },
        severity: { critical: urls.critical },
      }),
      ALERT_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      ALERT_EMAIL_TO: 'oncall@example.test',
      ALERT_ESCALATION_HIGH: `${ESCALATION_MS}ms`,
      ALERT_ESCALATION_MEDIUM: `${ESCALATION_MS}ms`,
    },
  });
  api = await startApi(config, pool);
  client = await connectClient(config.TEMPORAL_ADDRESS, config.TEMPORAL_NAMESPACE, config.PAYLOAD_ENCRYPTION_KEYS);
});

afterAll(async () => {
  await api?.close();
  await worker?.stop();
  await client?.connection.close();
  await discord?.close();
  await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
  await pool?.end();
  for (const restore of restores.reverse()) restore();
});

async function raise(input: AlertInput): Promise<string> {
  const id = alertWorkflowId(input.rule, input.fingerprint);
  await client.workflow.signalWithStart('alert', {
    workflowId: id,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    args: [input],
    signal: 'raise',
    signalArgs: [{ summary: input.summary }],
  });
  return id;
}

async function view(id: string): Promise<AlertView> {
  return client.workflow.getHandle(id).query(alertStatusQuery);
}

async function resolveAndWait(id: string): Promise<AlertView> {
  await client.workflow.getHandle(id).signal(resolveAlertSignal, { reason: 'test over' });
  return (await client.workflow.getHandle(id).result()) as AlertView;
}

function mentions(id: string) {
  return (m: { content: string | null }) => (m.content ?? '').includes(id);
}

test('a high alert reaches Discord through a 429 (fractional retry_after waited out, delivered once), email at once beside it, and Discord hears it resolved', async () => {
  const id = await raise({ rule: `test-high-${run}`, fingerprint: 'p1', severity: 'high', summary: `p1 is down (${run})`, provider: 'p1' });
  // The first POST to the default webhook is rate limited: 1.5 s, told only in the body (Discord's precise value).
  discord.addFault({ kind: 'rate-limit', retryAfterSeconds: 1.5, via: 'body', webhookId: ids.fallback, times: 1 });

  const notified = await eventually(async () => {
    const v = await view(id);
    return v.notifications.some((n) => n.channel === 'discord') ? v : undefined;
  }, 30_000);
  expect(notified.notifications.filter((n) => n.channel === 'discord')).toEqual([expect.objectContaining({ level: 0, event: 'firing', ok: true, error: null })]);
  const attempts = discord.requests(ids.fallback).filter((r) => JSON.stringify(r.body).includes(id));
  expect(attempts.map((r) => r.status)).toEqual([429, 204]);
  expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(1500);
  expect(discord.earlyRetries()).toBe(0);
  const delivered = discord.messages(ids.fallback).filter(mentions(id));
  expect(delivered).toHaveLength(1);
  expect(delivered[0]!.content).toMatch(/^\[HIGH\] p1 is down/);
  expect(delivered[0]!.embeds).toHaveLength(1);
  expect(delivered[0]!.body.allowed_mentions).toEqual({ parse: [] });

  // Email goes out at once too (high's row: email + chat); with no SMS configured there is no next level,
  // so after the escalation wait Discord is not told again.
  await eventually(() => Promise.resolve(mails.find((m) => m.raw.includes(id))), 30_000);
  await new Promise((resolve) => setTimeout(resolve, ESCALATION_MS + 1000));
  expect((await view(id)).escalationLevel).toBe(0);
  expect(discord.messages(ids.fallback).filter(mentions(id))).toHaveLength(1);

  // Resolved: the first level (Discord) hears it, once.
  const final = await resolveAndWait(id);
  expect(final.state).toBe('resolved');
  const messages = discord.messages(ids.fallback).filter(mentions(id));
  expect(messages.map((m) => m.content!.slice(0, 10))).toEqual(['[HIGH] p1 ', '[RESOLVED]']);
});

test('a 429 told only by a Retry-After header is waited out as well', async () => {
  const id = await raise({ rule: `test-header-${run}`, fingerprint: 'p2', severity: 'high', summary: `p2 slow (${run})` });
  discord.addFault({ kind: 'rate-limit', retryAfterSeconds: 2, via: 'header', webhookId: ids.fallback, times: 1 });
  await eventually(async () => ((await view(id)).notifications.some((n) => n.channel === 'discord' && n.ok) ? true : undefined), 30_000);
  const attempts = discord.requests(ids.fallback).filter((r) => JSON.stringify(r.body).includes(id));
  expect(attempts.map((r) => r.status)).toEqual([429, 204]);
  expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(2000);
  expect(discord.earlyRetries()).toBe(0);
  expect(discord.messages(ids.fallback).filter(mentions(id))).toHaveLength(1);
  await resolveAndWait(id);
});

test('alerts go to their rule’s webhook, else their severity’s, else the default one; a refused webhook fails only that notification', async () => {
  const routed = await raise({ rule: `test-routed-${run}`, fingerprint: 'p3', severity: 'critical', summary: `routed by rule (${run})` });
  const critical = await raise({ rule: `test-critical-${run}`, fingerprint: 'p4', severity: 'critical', summary: `routed by severity (${run})` });
  // Discord answers 404 Unknown Webhook (deleted): not retried, recorded as failed, the alert goes on.
  discord.addFault({ kind: 'status', status: 404, webhookId: ids.revoked, times: 5 });
  const revoked = await raise({ rule: `test-revoked-${run}`, fingerprint: 'p5', severity: 'critical', summary: `revoked webhook (${run})` });

  for (const id of [routed, critical, revoked]) {
    await eventually(async () => ((await view(id)).notifications.length >= 2 ? true : undefined), 30_000); // discord + email
  }
  expect(discord.messages(ids.routed).filter(mentions(routed))).toHaveLength(1);
  expect(discord.messages(ids.critical).filter(mentions(critical))).toHaveLength(1);
  for (const other of [ids.fallback, ids.critical]) expect(discord.messages(other).filter(mentions(routed))).toHaveLength(0);
  for (const other of [ids.fallback, ids.routed]) expect(discord.messages(other).filter(mentions(critical))).toHaveLength(0);

  const failed = (await view(revoked)).notifications.find((n) => n.channel === 'discord')!;
  expect(failed).toMatchObject({ ok: false, level: 0 });
  expect(failed.error).toMatch(/Discord webhook \(rule:test-revoked-[0-9a-f]+\) answered HTTP 404/);
  expect(discord.requests(ids.revoked)).toHaveLength(1); // a 404 is not retried
  expect((await view(revoked)).notifications.find((n) => n.channel === 'email')).toMatchObject({ ok: true });
  for (const id of [routed, critical, revoked]) await resolveAndWait(id);
});

test('no webhook URL or token is logged, kept in a workflow history, stored, or answered by the API', async () => {
  const { rows } = await pool.query<{ id: string }>('SELECT id FROM alerts WHERE id LIKE $1', [`alert:test-%-${run}:%`]);
  expect(rows.length).toBeGreaterThanOrEqual(5);
  const output = [...logged, ...written.flatMap((read) => read())].join('\n');
  const seen: string[] = [output];
  for (const { id } of rows) {
    seen.push(JSON.stringify((await pool.query('SELECT * FROM alerts WHERE id = $1', [id])).rows));
    seen.push(JSON.stringify((await client.workflow.getHandle(id).fetchHistory()).events));
    seen.push(await (await api.fetch(`/alerts/${encodeURIComponent(id)}`)).text());
  }
  seen.push(await (await api.fetch('/alerts?limit=200')).text());
  // The logs did see the 429s and the 404 (so the check below is not vacuous).
  expect(output).toMatch(/Discord webhook \(default\) answered HTTP 429/);
  const text = seen.join('\n');
  for (const token of tokens) expect(text).not.toContain(token);
  expect(text).not.toContain('/api/webhooks/');
});
