/**
 * WhatsApp Business Cloud API template messages through POST /calls/whatsapp/sendTemplate on the
 * real Temporal dev server and PostgreSQL, against the fake Graph API
 * (test/fakes/providers/whatsapp.ts): the wire format and bearer token, the Graph API's error
 * codes classified (190 and 132001 permanent, the throughput limit 130429 retried although it
 * arrives as a 400), and bad params refused before anything starts.
 */
import { randomUUID } from 'node:crypto';
import type { FakeProviders } from '../fakes/provider-server';
import { fakeCredentials, startStack, type RunningApi, type TestStack } from '../support/harness';

let stack: TestStack;
let fakes: FakeProviders;
let api: RunningApi;

beforeAll(async () => {
  ({ fakes, api } = stack = await startStack({ config: { CALL_WAIT_MS: 30_000 } }));
});

afterAll(() => stack?.close());

beforeEach(() => {
  fakes.clearFaults();
});

interface CallAnswer {
  status: number;
  json: {
    status?: string;
    reason?: string;
    fields?: Record<string, string>;
    result?: { servedBy: string; data: Record<string, unknown> };
    error?: { message: string; type: string | null } | string;
  };
}

async function sendTemplate(params: unknown): Promise<CallAnswer> {
  const res = await api.fetch('/calls/whatsapp/sendTemplate', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
    body: JSON.stringify({ params }),
  });
  return { status: res.status, json: (await res.json()) as CallAnswer['json'] };
}

const reminder = {
  to: '+16505551234',
  template: 'appointment_reminder',
  components: [{ type: 'body', parameters: [{ type: 'text', text: 'Tuesday 10:00' }] }],
};

function sends() {
  return fakes.requests({ provider: 'whatsapp', operation: 'sendTemplate' });
}

test('a template message goes out in the Cloud API wire format and comes back as its wamid', async () => {
  const answer = await sendTemplate(reminder);
  expect(answer.json).toMatchObject({ status: 'completed', result: { servedBy: 'whatsapp', data: { waId: '16505551234', to: '+16505551234' } } });
  expect(answer.json.result!.data.messageId).toMatch(/^wamid\./);

  const [sent] = sends().slice(-1);
  expect(sent!.path).toBe(`/v21.0/${fakeCredentials.WHATSAPP_PHONE_NUMBER_ID}/messages`);
  expect(sent!.headers.authorization).toBe(`Bearer ${fakeCredentials.WHATSAPP_ACCESS_TOKEN}`);
  expect(sent!.body).toEqual({
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    to: '+16505551234',
    type: 'template',
    template: { name: 'appointment_reminder', language: { code: 'en_US' }, components: reminder.components },
  });
});

test('a template that does not exist (132001) fails at once, permanently, naming the code', async () => {
  const before = sends().length;
  const answer = await sendTemplate({ ...reminder, template: 'missing_template' });
  expect(answer.json.status).toBe('failed');
  expect((answer.json.error as { message: string }).message).toMatch(/404 132001.*Template name does not exist/);
  expect(sends().length - before).toBe(1);
});

test('an expired token (190) is permanent: one request, no retry', async () => {
  fakes.addFault({ provider: 'whatsapp', operation: 'sendTemplate', kind: 'status', status: 401 });
  const before = sends().length;
  const answer = await sendTemplate(reminder);
  expect(answer.json.status).toBe('failed');
  expect((answer.json.error as { message: string }).message).toMatch(/401 190.*access token/);
  expect(sends().length - before).toBe(1);
});

test('the throughput limit (130429, sent as a 400) is throttling: retried with the same idempotency key until it goes out', async () => {
  fakes.addFault({ provider: 'whatsapp', operation: 'sendTemplate', kind: 'status', status: 400, times: 1 });
  const before = sends().length;
  const answer = await sendTemplate(reminder);
  expect(answer.json.status).toBe('completed');
  const attempts = sends().slice(before);
  expect(attempts.map((a) => a.status)).toEqual([400, 200]);
  expect(attempts[1]!.idempotencyKey).toBe(attempts[0]!.idempotencyKey);
});

test('bad params are refused with 400 naming the field, and nothing is sent', async () => {
  const before = sends().length;
  for (const params of [
    { ...reminder, to: '+1650555\u00001234' },
    { ...reminder, to: '＋１６５０５５５１２３４' },
    { ...reminder, template: 'Appointment Reminder' },
    { ...reminder, language: 'english' },
    { ...reminder, components: [{ type: '__proto__', parameters: [] }] },
  ]) {
    const answer = await sendTemplate(params);
    expect(answer.status).toBe(400);
    // invalid_request when the body itself is refused (NUL anywhere), invalid_params when the operation's schema refuses it.
    expect(answer.json).toMatchObject({ error: expect.stringMatching(/^invalid_(params|request)$/) as string, fields: expect.any(Object) as object });
  }
  expect(sends().length).toBe(before);
});
