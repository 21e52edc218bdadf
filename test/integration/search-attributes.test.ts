/**
 * The Temporal Web UI's list is filterable on the real server: every kind of run carries its
 * search attributes from its start (API starts, Schedule actions, alerts, child deliveries), and
 * each saved query README shows, read from README itself, finds what it says it finds.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { createActivities } from '../../activities';
import { startBooking, startProviderCall } from '../../lib/temporal/start-work';
import { bookingWorkflowId, providerCallWorkflowId } from '../../contracts/call';
import { deliveryWorkflowId } from '../../contracts/delivery';
import { customSearchAttributes } from '../../contracts/search-attributes';
import type { WebhookEvent } from '../../contracts/webhook';
import { projectRoot } from '../../lib/config/paths';
import { raiseAlertRun } from '../../lib/temporal/alert-runs';
import { connectClient } from '../../lib/temporal/connection';
import { desiredSchedules, probeScheduleId, slaScheduleId, syncSchedules } from '../../workers/schedules';
import { eventually, postStripe, startStack, stripeEvent, sampleBooking, type TestStack } from '../support/harness';
import { whenStarted } from '../support/inbox';

/** Events whose Stripe handler fails (a failed webhook). */
const failing = new Set<string>();
let stack: TestStack;
let client: Client;
/** A task queue no worker polls: runs started there stay open (an open call, a probe that never runs). */
const unpolled = `unpolled-${randomUUID()}`;
const idPrefix = `test-${randomUUID().slice(0, 8)}:`;
const receivers: http.Server[] = [];
const started: string[] = [];

/** A subscriber endpoint answering `status` to every delivery. */
async function receiver(status: number): Promise<string> {
  const server = http.createServer((req, res) => req.resume().on('end', () => res.writeHead(status).end()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receivers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

async function subscribe(url: string): Promise<string> {
  const res = await stack.api.fetch('/subscribers', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url }) });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

/** The run's custom search attributes by name, once it is visible to `describe`. */
async function attributesOf(workflowId: string): Promise<Record<string, unknown>> {
  const { typedSearchAttributes } = await client.workflow.getHandle(workflowId).describe();
  return Object.fromEntries(
    customSearchAttributes.flatMap((key) => {
      const value = typedSearchAttributes.get(key);
      return value === undefined ? [] : [[key.name, value]];
    }),
  );
}

/** Whether `query` (visibility, eventually consistent) finds the run `workflowId`. */
async function finds(query: string, workflowId: string): Promise<boolean> {
  const { count } = await client.workflow.count(`(${query}) AND WorkflowId = "${workflowId}"`);
  return count > 0;
}

/** The registry the Schedules are made from: one provider. */
function probed(): TestStack['registry'] {
  return { stripe: stack.registry.stripe! };
}

/** README's saved queries, by the text of their first cell. */
function savedQueries(): Map<string, string> {
  const readme = readFileSync(path.join(projectRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Saved queries'));
  const table = section.slice(0, section.indexOf('\n#', 1));
  const queries = new Map<string, string>();
  for (const line of table.split('\n')) {
    const row = /^\| ([^|]+?) \| `([^`]+)` \|$/.exec(line);
    if (row) queries.set(row[1]!, row[2]!);
  }
  return queries;
}

function savedQuery(title: RegExp, substitutions: Record<string, string> = {}): string {
  const entry = [...savedQueries()].find(([what]) => title.test(what));
  if (!entry) throw new Error(`README's saved queries have no row matching ${title}`);
  return Object.entries(substitutions).reduce((query, [from, to]) => query.replaceAll(`"${from}"`, `"${to}"`), entry[1]);
}

beforeAll(async () => {
  stack = await startStack({
    worker: ({ pool, config }) => {
      const real = createActivities({ pool, registry: {}, env: {}, providerTaskQueuePrefix: config.PROVIDER_TASK_QUEUE_PREFIX });
      return {
        deliveryRetrySchedule: ['200 ms'],
        activities: {
          async recordStripePayment(event: WebhookEvent) {
            if (failing.has(event.eventId)) throw ApplicationFailure.nonRetryable('payments table is being migrated', 'HandlerBroken');
            return real.recordStripePayment(event);
          },
        },
      };
    },
  });
  client = await connectClient(stack.config.TEMPORAL_ADDRESS, stack.config.TEMPORAL_NAMESPACE, stack.config.PAYLOAD_ENCRYPTION_KEYS);
});

afterAll(async () => {
  for (const id of started) await client?.workflow.getHandle(id).terminate('search attribute test over').catch(() => undefined);
  for (const id of desiredSchedules(probed(), unpolled, idPrefix).map((s) => s.scheduleId)) {
    await client?.schedule.getHandle(id).delete().catch(() => undefined);
  }
  await client?.connection.close();
  for (const server of receivers) server.close();
  await stack?.close();
});

test('README has the saved queries an operator uses', () => {
  expect([...savedQueries().keys()]).toEqual(
    expect.arrayContaining([expect.stringMatching(/scheduled runs/), expect.stringMatching(/failed webhooks/i), expect.stringMatching(/open calls/i), expect.stringMatching(/dead-lettered/i)]),
  );
});

test('webhooks and their deliveries carry kind, provider, tenant, event type and outcome; the saved queries find the failed and the dead-lettered', async () => {
  const tenant = stack.config.DEFAULT_TENANT;
  const gone = await subscribe(await receiver(410));
  const fine = await subscribe(await receiver(200));
  const handled = stripeEvent();
  const broken = stripeEvent();
  failing.add(String(broken.id));
  const handledId = String((await postStripe(stack.api.url, handled)).json.workflowId);
  const brokenId = String((await postStripe(stack.api.url, broken)).json.workflowId);
  await (await whenStarted(client.workflow, handledId)).result();
  await expect((await whenStarted(client.workflow, brokenId)).result()).rejects.toThrow();
  const deadId = deliveryWorkflowId(gone, 'stripe', String(handled.id));
  const deliveredId = deliveryWorkflowId(fine, 'stripe', String(handled.id));
  await (await whenStarted(client.workflow, deadId)).result();
  await (await whenStarted(client.workflow, deliveredId)).result();

  const event = { provider: 'stripe', tenant, eventType: 'payment_intent.succeeded' };
  expect(await attributesOf(handledId)).toEqual({ kind: 'webhook', ...event, webhookStatus: 'completed' });
  expect(await attributesOf(brokenId)).toEqual({ kind: 'webhook', ...event, webhookStatus: 'failed' });
  expect(await attributesOf(deadId)).toEqual({ kind: 'delivery', ...event, deliveryStatus: 'dead_lettered' });
  expect(await attributesOf(deliveredId)).toEqual({ kind: 'delivery', ...event, deliveryStatus: 'delivered' });

  const failedWebhooks = savedQuery(/failed webhooks/i);
  const deadLetters = savedQuery(/dead-lettered/i);
  const everyday = savedQuery(/scheduled runs/);
  await eventually(async () => ((await finds(failedWebhooks, brokenId)) && (await finds(deadLetters, deadId)) ? true : undefined));
  expect(await finds(failedWebhooks, handledId)).toBe(false);
  expect(await finds(deadLetters, deliveredId)).toBe(false);
  await eventually(async () => ((await finds(everyday, handledId)) && (await finds(everyday, deadId)) ? true : undefined));
  // The list finds them too (what the Web UI shows): the failed webhook among the provider's failed ones.
  const listed: string[] = [];
  for await (const run of client.workflow.list({ query: `${failedWebhooks} AND tenant = "${tenant}"` })) listed.push(run.workflowId);
  expect(listed).toContain(brokenId);
  expect(listed).not.toContain(handledId);
}, 60_000);

test('calls, bookings and alerts carry their kind from the start; the saved query finds a tenant\'s open calls', async () => {
  const tenant = `t${randomUUID().slice(0, 8)}`;
  const config = { ...stack.config, TEMPORAL_TASK_QUEUE: unpolled };
  const callId = providerCallWorkflowId(tenant, 'twilio', randomUUID());
  const otherCallId = providerCallWorkflowId(`${tenant}x`, 'twilio', randomUUID());
  const bookingId = bookingWorkflowId(tenant, randomUUID());
  const call = { provider: 'twilio', operation: 'sendSms', params: {}, priority: 'normal' as const };
  started.push(callId, otherCallId, bookingId);
  await startProviderCall(stack.api.workflows, config, callId, { ...call, tenant });
  await startProviderCall(stack.api.workflows, config, otherCallId, { ...call, tenant: `${tenant}x` });
  await startBooking(stack.api.workflows, config, bookingId, { ...sampleBooking, tenant });
  const alert = await raiseAlertRun(
    { workflows: client.workflow, pool: stack.pool, taskQueue: unpolled },
    { rule: `search-attributes-${randomUUID().slice(0, 8)}`, fingerprint: 'stripe', severity: 'low', summary: 'test alert', provider: 'stripe' },
  );
  started.push(alert.workflowId);

  expect(await attributesOf(callId)).toEqual({ kind: 'call', provider: 'twilio', tenant });
  expect(await attributesOf(bookingId)).toEqual({ kind: 'booking', tenant });
  expect(await attributesOf(alert.workflowId)).toEqual({ kind: 'alert', provider: 'stripe' });

  const openCalls = savedQuery(/open calls/i, { acme: tenant });
  expect(openCalls).toContain(tenant);
  await eventually(async () => ((await finds(openCalls, callId)) ? true : undefined));
  expect(await finds(openCalls, otherCallId)).toBe(false);
  expect(await finds(openCalls, bookingId)).toBe(false);
}, 60_000);

test('Schedules start probes and reports with their kind (existing Schedules get it on update); the everyday query hides them', async () => {
  const [probe] = desiredSchedules(probed(), unpolled, idPrefix);
  // A Schedule as an earlier release made it: no search attributes on its action.
  const { typedSearchAttributes: _none, ...oldAction } = probe!.action;
  await client.schedule.create({ scheduleId: probe!.scheduleId, spec: probe!.spec, action: oldAction, state: { paused: true } });
  const synced = await syncSchedules({ client, registry: probed(), taskQueue: unpolled, idPrefix, initiallyPaused: true });
  expect(synced.updated).toContain(probe!.scheduleId);

  const probeSchedule = client.schedule.getHandle(probeScheduleId('stripe', idPrefix));
  const described = await probeSchedule.describe();
  const scheduled = described.action.typedSearchAttributes;
  const pairs = scheduled instanceof TypedSearchAttributes ? scheduled.getAll() : (scheduled ?? []);
  expect(pairs.map(({ key, value }) => [key.name, value])).toEqual(
    expect.arrayContaining([['kind', 'probe'], ['provider', 'stripe']]),
  );

  const everyday = savedQuery(/scheduled runs/);
  const runs: Record<string, string> = {};
  for (const [scheduleId, kind] of [[probeScheduleId('stripe', idPrefix), 'probe'], [slaScheduleId('hourly', idPrefix), 'sla-report']] as const) {
    await client.schedule.getHandle(scheduleId).trigger();
    const workflowId = await eventually(async () => {
      for await (const run of client.workflow.list({ query: `TemporalScheduledById = "${scheduleId}"` })) return run.workflowId;
      return undefined;
    });
    started.push(workflowId);
    runs[kind] = workflowId;
    expect(await attributesOf(workflowId)).toEqual(kind === 'probe' ? { kind, provider: 'stripe' } : { kind });
    await eventually(async () => ((await finds(`kind = "${kind}"`, workflowId)) ? true : undefined));
    expect(await finds(everyday, workflowId)).toBe(false);
  }
}, 60_000);
