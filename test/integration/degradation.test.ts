/**
 * Graceful degradation on the real Temporal dev server and PostgreSQL, against the fake providers:
 * - a declared read (staleIfErrorSeconds) answers its last cached value, marked stale, when the
 *   provider fails or its circuit is open, and fails as before past its stale window or on a
 *   rejection;
 * - the booking saga's non-critical steps (bookingSagaSteps) never undo the critical ones: a failed
 *   confirmation email leaves the booking completed, is retried by its follow-up workflow and
 *   alerted; a failed calendar step (critical) still refunds the charge;
 * - the histories these runs produce replay, beside the recorded one from before the change
 *   (test/replay/histories/booking-saga-compensated.json, where a confirmation failure undid all);
 * - the rollback switches (FEATURE_CACHE, FEATURE_FAILOVER, FEATURE_BATCHING = off).
 */
import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { providerCallStatusQuery, sagaFollowUpWorkflowId, type ProviderCallStatus, type SagaFollowUpResult } from '../../contracts/call';
import { alertWorkflowId, resolveAlertSignal } from '../../contracts/monitoring';
import { findAlert } from '../../lib/data/alerts';
import { connectClient } from '../../lib/temporal/connection';
import { workerDataConverter, workflowsPath } from '../../workers/worker';
import { eventually, fakeCredentials, sampleBooking, startStack, type TestStack } from '../support/harness';

const run = randomUUID().slice(0, 8);

interface Answer {
  status: number;
  json: {
    workflowId?: string;
    status?: string;
    result?: Record<string, unknown> & { data?: Record<string, unknown> };
    error?: { message: string; type: string | null };
  };
}

async function post(stack: TestStack, path: string, body: unknown): Promise<Answer> {
  const res = await stack.api.fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Answer['json'] };
}

describe('stale reads and non-critical saga steps', () => {
  const calendar = `stale-calendar-${run}`;
  let stack: TestStack;
  let client: Client;

  beforeAll(async () => {
    stack = await startStack({
      config: { CALL_WAIT_MS: 45_000 },
      registry: (r) => {
        r[calendar] = { ...structuredClone(r['google-calendar']!), name: calendar };
      },
      worker: { env: { ...fakeCredentials, SAGA_FOLLOW_UP_SCHEDULE: '1s,1s,1s' } },
    });
    client = await connectClient(stack.config.TEMPORAL_ADDRESS, stack.config.TEMPORAL_NAMESPACE, stack.config.PAYLOAD_ENCRYPTION_KEYS);
  });
  afterAll(async () => {
    await client?.connection.close();
    await stack?.close();
  });
  beforeEach(() => stack.fakes.clearFaults());

  const getEvent = (eventId: string) => post(stack, `/calls/${calendar}/getEvent`, { params: { calendarId: 'primary', eventId } });
  const reads = () => stack.fakes.requests({ provider: 'google-calendar', operation: 'getEvent' }).length;
  const cacheRow = `%:${calendar}:getEvent:%`;

  async function cachedEvent(): Promise<string> {
    const inserted = await post(stack, `/calls/${calendar}/insertEvent`, {
      params: { calendarId: 'primary', summary: 'stale', start: '2026-12-01T10:00:00Z', end: '2026-12-01T11:00:00Z' },
    });
    const eventId = String(inserted.json.result!.data!.id);
    const fresh = await getEvent(eventId);
    expect(fresh.json.result).toMatchObject({ data: { id: eventId } });
    expect(fresh.json.result!.stale).toBeUndefined();
    // Past its freshness, within its stale window (an hour for getEvent).
    await stack.pool.query("UPDATE provider_cache SET expires_at = now() - interval '1 second' WHERE key LIKE $1", [cacheRow]);
    return eventId;
  }

  test('a provider failure answers the last cached value, marked stale; a rejection and an answer past the stale window do not', async () => {
    const eventId = await cachedEvent();
    stack.fakes.addFault({ provider: 'google-calendar', operation: 'getEvent', kind: 'status', status: 503 });
    const before = reads();
    const stale = await getEvent(eventId);
    expect(stale.json).toMatchObject({ status: 'completed', result: { stale: true, cached: true, data: { id: eventId } } });
    expect(Date.parse(String(stale.json.result!.staleSince))).toBeLessThan(Date.now());
    expect(reads()).toBe(before + 1); // the provider was asked, and failed

    // A rejection is the request's fault: no stale answer hides it.
    stack.fakes.clearFaults();
    stack.fakes.addFault({ provider: 'google-calendar', operation: 'getEvent', kind: 'validation' });
    expect((await getEvent(eventId)).json).toMatchObject({ status: 'failed', error: { type: 'ProviderRejected' } });

    // Past the stale window nothing is served: the call fails as it would without a cache.
    await stack.pool.query("UPDATE provider_cache SET stale_until = now() - interval '1 second' WHERE key LIKE $1", [cacheRow]);
    expect((await getEvent(eventId)).json).toMatchObject({ status: 'failed' });
  });

  test('an open circuit answers the stale value without asking the provider', async () => {
    const eventId = await cachedEvent();
    await stack.pool.query(
      `INSERT INTO circuit_breakers (provider, state, opened_at, open_until) VALUES ($1, 'open', now(), now() + interval '5 minutes')
       ON CONFLICT (provider) DO UPDATE SET state = 'open', opened_at = now(), open_until = now() + interval '5 minutes'`,
      [calendar],
    );
    try {
      const before = reads();
      expect((await getEvent(eventId)).json).toMatchObject({ status: 'completed', result: { stale: true, data: { id: eventId } } });
      expect(reads()).toBe(before);
    } finally {
      await stack.pool.query("UPDATE circuit_breakers SET state = 'closed', open_until = NULL WHERE provider = $1", [calendar]);
    }
  });

  const book = (change: Record<string, unknown> = {}) => post(stack, '/bookings', { ...sampleBooking, ...change });

  test('a failed confirmation email does not undo the booking: it completes, the email is retried by its follow-up and alerted until sent', async () => {
    stack.fakes.addFault({ provider: 'sendgrid', kind: 'validation', times: 1 });
    const before = stack.fakes.state();
    const answer = await book();
    expect(answer.json).toMatchObject({ status: 'completed', result: { followUps: ['email'], smsSentBy: 'twilio', emailMessageId: null } });
    const bookingId = String(answer.json.workflowId);

    const followUp = client.workflow.getHandle(sagaFollowUpWorkflowId(bookingId, 'email'));
    expect((await followUp.result()) as SagaFollowUpResult).toMatchObject({ ok: true, attempts: 1, servedBy: 'sendgrid' });
    const after = stack.fakes.state();
    expect(after.refunds).toBe(before.refunds);
    expect(after.calendarEvents.deleted).toBe(before.calendarEvents.deleted);

    const alert = await eventually(async () => {
      const row = await findAlert(stack.pool, alertWorkflowId('saga-step-failed', `${bookingId}:email`));
      return row?.state === 'resolved' ? row : undefined;
    });
    expect(alert).toMatchObject({ severity: 'medium', provider: 'sendgrid' });

    const view = (await (await stack.api.fetch(`/bookings/${encodeURIComponent(bookingId)}`)).json()) as Record<string, unknown>;
    expect(view).toMatchObject({ status: 'completed', undone: [], followUps: [{ step: 'email', workflowId: followUp.workflowId }] });

    // Both runs replay (the recorded run from before the change replays in test/replay).
    const histories = [bookingId, followUp.workflowId].map(async (workflowId) => ({ workflowId, history: await client.workflow.getHandle(workflowId).fetchHistory() }));
    const results = Worker.runReplayHistories({ workflowsPath, dataConverter: workerDataConverter(stack.config.PAYLOAD_ENCRYPTION_KEYS) }, await Promise.all(histories));
    for await (const result of results) expect(result.error).toBeUndefined();
  });

  test('a confirmation that keeps failing leaves the alert open for a person once the follow-up schedule runs out', async () => {
    stack.fakes.addFault({ provider: 'twilio', kind: 'validation' });
    const answer = await book();
    expect(answer.json).toMatchObject({ status: 'completed', result: { followUps: ['sms'], smsSentBy: null } });
    const bookingId = String(answer.json.workflowId);
    const outcome = (await client.workflow.getHandle(sagaFollowUpWorkflowId(bookingId, 'sms')).result()) as SagaFollowUpResult;
    expect(outcome).toMatchObject({ ok: false, attempts: 3, servedBy: null, error: expect.stringMatching(/twilio/) as unknown });
    const alertId = alertWorkflowId('saga-step-failed', `${bookingId}:sms`);
    expect((await findAlert(stack.pool, alertId))?.state).toBe('firing');
    await client.workflow.getHandle(alertId).signal(resolveAlertSignal, { reason: 'test over' });
  });

  test('a failed calendar step (critical) refunds the charge and fails the booking', async () => {
    stack.fakes.addFault({ provider: 'google-calendar', operation: 'insertEvent', kind: 'validation' });
    const before = stack.fakes.state();
    const answer = await book();
    expect(answer.json).toMatchObject({ status: 'failed', error: { type: 'BookingFailed' } });
    expect(answer.json.error!.message).toMatch(/booking failed at calendar: .*undone: refund payment pi_/);
    expect(stack.fakes.state().refunds).toBe(before.refunds + 1);
    const view = (await (await stack.api.fetch(`/bookings/${encodeURIComponent(String(answer.json.workflowId))}`)).json()) as Record<string, unknown>;
    expect(view).toMatchObject({ status: 'failed', failedStep: 'calendar', followUps: [] });
  });
});

describe('rollback switches off', () => {
  const primary = `switch-sms-${run}`;
  const backup = `switch-backup-${run}`;
  const mail = `switch-mail-${run}`;
  let stack: TestStack;
  let client: Client;

  beforeAll(async () => {
    stack = await startStack({
      config: { CALL_WAIT_MS: 45_000 },
      registry: (r) => {
        r[backup] = { ...structuredClone(r['backup-sms']!), name: backup };
        r[primary] = { ...structuredClone(r.twilio!), name: primary, failover: { strategy: 'primary-secondary', backups: [backup] } };
        r[mail] = { ...structuredClone(r.sendgrid!), name: mail };
      },
      worker: { env: { ...fakeCredentials, FEATURE_CACHE: 'off', FEATURE_FAILOVER: 'off', FEATURE_BATCHING: 'off' } },
    });
    client = await connectClient(stack.config.TEMPORAL_ADDRESS, stack.config.TEMPORAL_NAMESPACE, stack.config.PAYLOAD_ENCRYPTION_KEYS);
  });
  afterAll(async () => {
    await client?.connection.close();
    await stack?.close();
  });

  test('FEATURE_CACHE=off: the same read twice asks the provider twice', async () => {
    const inserted = await post(stack, '/calls/google-calendar/insertEvent', {
      params: { calendarId: 'primary', summary: 'uncached', start: '2026-12-01T10:00:00Z', end: '2026-12-01T11:00:00Z' },
    });
    const eventId = String(inserted.json.result!.data!.id);
    const before = stack.fakes.requests({ provider: 'google-calendar', operation: 'getEvent' }).length;
    for (let i = 0; i < 2; i++) {
      const read = await post(stack, '/calls/google-calendar/getEvent', { params: { calendarId: 'primary', eventId } });
      expect(read.json.result).toMatchObject({ data: { id: eventId } });
      expect(read.json.result!.cached).toBeUndefined();
    }
    expect(stack.fakes.requests({ provider: 'google-calendar', operation: 'getEvent' }).length).toBe(before + 2);
  });

  test('FEATURE_FAILOVER=off: an open circuit is waited out on the primary, never sent to the backup', async () => {
    await stack.pool.query(
      `INSERT INTO circuit_breakers (provider, state, opened_at, open_until) VALUES ($1, 'open', now(), now() + interval '5 minutes')
       ON CONFLICT (provider) DO UPDATE SET state = 'open', opened_at = now(), open_until = now() + interval '5 minutes'`,
      [primary],
    );
    const started = await stack.api.fetch(`/calls/${primary}/sendSms?wait=0`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify({ params: { to: '+14155550100', body: 'hello' } }),
    });
    const { workflowId } = (await started.json()) as { workflowId: string };
    const handle = client.workflow.getHandle(workflowId);
    try {
      // The primary's attempt failed on its open circuit and waits for the cool-down to retry.
      await eventually(async () => ((await handle.describe()).raw.pendingActivities?.[0]?.lastFailure?.message ? true : undefined));
      const status = await handle.query<ProviderCallStatus>(providerCallStatusQuery);
      expect(status.candidates.map((c) => c.provider)).toEqual([primary]);
      expect(stack.fakes.requests({ provider: 'vonage' })).toHaveLength(0);
      expect(status.failedOver).toBe(false);
    } finally {
      await handle.terminate('test over');
      await stack.pool.query('DELETE FROM circuit_breakers WHERE provider = $1', [primary]);
    }
  });

  test('FEATURE_BATCHING=off: queued items go one provider request each', async () => {
    const before = stack.fakes.requests({ provider: 'sendgrid' }).length;
    const queued = await Promise.all(
      ['a', 'b', 'c'].map(async (x) => {
        const res = await stack.api.fetch(`/batches/${mail}/sendMail`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ params: { to: `${x}-${run}@example.com`, subject: 'digest', text: 'hello' }, priority: 'medium' }),
        });
        expect([200, 202]).toContain(res.status);
        return (await res.json()) as { itemId: string };
      }),
    );
    for (const { itemId } of queued) {
      const item = await eventually(async () => {
        const body = (await (await stack.api.fetch(`/batches/items/${encodeURIComponent(itemId)}`)).json()) as { status: string; batchSize: number };
        return body.status === 'sent' ? body : undefined;
      });
      expect(item.batchSize).toBe(1);
    }
    expect(stack.fakes.requests({ provider: 'sendgrid' }).length).toBe(before + 3);
  });
});
