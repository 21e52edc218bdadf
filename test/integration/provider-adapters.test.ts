/**
 * The real provider adapters against the fake providers (test/fakes): each operation's happy path
 * on the provider's wire format, and the failure behaviour the workflows rely on — one charge per
 * idempotency key even when an answer is lost, Retry-After honoured exactly, declines not retried,
 * resets and timeouts retried, Google inserts and deletes idempotent.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { OutboundPolicy } from '../../lib/security/outbound-policy';
import { loadRegistry } from '../../lib/config/registry';
import { closeProviderConnections, providerMetricsRegistry } from '../../providers/prepare-provider-call';
import type { ProviderFailureDetails } from '../../providers/core/classify';
import { googleEventIdFor } from '../../providers/google-calendar/adapter';
import type { ProviderCallContext } from '../../providers/core/adapter-types';
import { startFakeProviders, type FakeProviders } from '../fakes/provider-server';
import { createTestServiceAccount } from '../support/google-service-account';
import { sendProviderCall } from '../support/provider-calls';

const registry = loadRegistry({});
/** The fakes listen on loopback over http, which the outbound policy refuses unless allowed. */
const outbound = new OutboundPolicy({ allow: ['127.0.0.1', '::1'], allowHttp: true });

// Jest types its asymmetric matchers as `any`; typed `unknown` they sit inside expected objects lint-clean.
const stringMatching = (pattern: RegExp): unknown => expect.stringMatching(pattern);
const anyString: unknown = expect.any(String);
const objectContaining = (shape: Record<string, unknown>): unknown => expect.objectContaining(shape);

const credentials: Record<string, Record<string, string>> = {
  stripe: { apiKey: 'sk_test_fake_0123456789' },
  twilio: { accountSid: 'AC0123456789abcdef0123456789abcdef', authToken: 'twilio-token-secret', from: '+15005550006' },
  'backup-sms': { apiKey: 'vonage-key', apiSecret: 'vonage-secret-value', from: 'Switchyard' },
  sendgrid: { apiKey: 'SG.fake-sendgrid-key' },
  'google-calendar': { accessToken: 'ya29.fake-google-token' },
  httpbin: { bearerToken: 'httpbin-token-secret' },
};

let fake: FakeProviders;

beforeAll(async () => {
  fake = await startFakeProviders();
});

afterAll(async () => {
  await closeProviderConnections();
  await fake.close();
});

beforeEach(() => fake.reset());

function ctxFor(
  provider: string,
  operation: string,
  options: { idempotencyKey?: string; timeoutMs?: number; signal?: AbortSignal } = {},
): ProviderCallContext {
  const config = registry[provider];
  if (!config) throw new Error(`no provider ${provider} in the registry`);
  return {
    provider: { ...config, baseUrl: fake.url, timeoutMs: options.timeoutMs ?? config.timeoutMs },
    operation,
    credentials: credentials[provider] ?? {},
    idempotencyKey: options.idempotencyKey ?? randomUUID(),
    signal: options.signal,
    outbound,
  };
}

/** The failure a call threw (the test fails if it succeeded or threw something else). */
async function failureOf(call: Promise<unknown>): Promise<ApplicationFailure & { providerDetails: ProviderFailureDetails }> {
  try {
    await call;
  } catch (error) {
    expect(error).toBeInstanceOf(ApplicationFailure);
    const failure = error as ApplicationFailure;
    return Object.assign(failure, { providerDetails: failure.details?.[0] as ProviderFailureDetails });
  }
  throw new Error('expected the call to fail');
}

function expectNoCredentials(failure: ApplicationFailure, provider: string): void {
  const text = `${failure.message}\n${JSON.stringify(failure.details)}`;
  for (const value of Object.values(credentials[provider] ?? {})) expect(text).not.toContain(value);
}

describe('Stripe (official SDK pointed at the fake)', () => {
  test('createPaymentIntent charges once and sends the idempotency key', async () => {
    const ctx = ctxFor('stripe', 'createPaymentIntent');
    const result = await sendProviderCall(ctx, { amount: 2000, currency: 'USD', description: 'order 42', metadata: { order: '42' } });
    expect(result.data).toEqual({ id: stringMatching(/^pi_/), status: 'succeeded', amount: 2000, currency: 'usd' });
    const [request] = fake.requests({ provider: 'stripe', operation: 'createPaymentIntent' });
    expect(request).toMatchObject({ idempotencyKey: ctx.idempotencyKey, body: objectContaining({ amount: '2000', currency: 'usd' }) });
    expect(request?.headers.authorization).toBe(`Bearer ${credentials.stripe!.apiKey}`);
    expect(fake.state().charges).toBe(1);
  });

  test('the same idempotency key replays the first answer: one charge', async () => {
    const idempotencyKey = randomUUID();
    const first = await sendProviderCall(ctxFor('stripe', 'createPaymentIntent', { idempotencyKey }), { amount: 1500, currency: 'eur' });
    const second = await sendProviderCall(ctxFor('stripe', 'createPaymentIntent', { idempotencyKey }), { amount: 1500, currency: 'eur' });
    expect(second.data.id).toBe(first.data.id);
    expect(fake.state().charges).toBe(1);
    expect(fake.requests({ provider: 'stripe' }).map((r) => r.replayed)).toEqual([false, true]);
  });

  test('an answer lost to a timeout is retryable, and the retry does not charge again', async () => {
    const idempotencyKey = randomUUID();
    fake.addFault({ provider: 'stripe', operation: 'createPaymentIntent', kind: 'latency', latencyMs: 1500, times: 1 });
    const lost = await failureOf(sendProviderCall(ctxFor('stripe', 'createPaymentIntent', { idempotencyKey, timeoutMs: 300 }), { amount: 900, currency: 'usd' }));
    expect(lost.type).toBe('ProviderUnavailable');
    expect(lost.nonRetryable).toBe(false);
    expect(lost.message).toBe('stripe createPaymentIntent: timed out after 300 ms');
    const retried = await sendProviderCall(ctxFor('stripe', 'createPaymentIntent', { idempotencyKey }), { amount: 900, currency: 'usd' });
    expect(retried.data.status).toBe('succeeded');
    expect(fake.state().charges).toBe(1);
  });

  test('402 card_declined is non-retryable ProviderRejected with the code', async () => {
    const failure = await failureOf(
      sendProviderCall(ctxFor('stripe', 'createPaymentIntent'), { amount: 2000, currency: 'usd', paymentMethod: 'pm_card_chargeDeclined' }),
    );
    expect(failure.type).toBe('ProviderRejected');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toBe('stripe createPaymentIntent: 402 card_declined: Your card was declined.');
    expect(failure.providerDetails).toEqual({ provider: 'stripe', operation: 'createPaymentIntent', status: 402, code: 'card_declined', retryable: false });
    expectNoCredentials(failure, 'stripe');
  });

  test('429 with Retry-After is ProviderThrottled with exactly that nextRetryDelay', async () => {
    fake.addFault({ provider: 'stripe', kind: 'rate-limit', retryAfterSeconds: 3, times: 1 });
    const failure = await failureOf(sendProviderCall(ctxFor('stripe', 'createPaymentIntent'), { amount: 2000, currency: 'usd' }));
    expect(failure.type).toBe('ProviderThrottled');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBe(3000);
    expect(failure.providerDetails).toMatchObject({ status: 429, code: 'rate_limit', retryable: true });
    expect(fake.state().charges).toBe(0);
  });

  test('a reset connection is ProviderUnavailable', async () => {
    // No `times`: the SDK re-sends once on a closed connection even with retries off (same key, so safe).
    fake.addFault({ provider: 'stripe', kind: 'reset' });
    const failure = await failureOf(sendProviderCall(ctxFor('stripe', 'createPaymentIntent'), { amount: 2000, currency: 'usd' }));
    expect(failure.type).toBe('ProviderUnavailable');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.providerDetails).toMatchObject({ status: null, retryable: true });
    expect(fake.state().charges).toBe(0);
  });

  test('refund and getPaymentIntent', async () => {
    const intent = await sendProviderCall(ctxFor('stripe', 'createPaymentIntent'), { amount: 3000, currency: 'usd' });
    const refund = await sendProviderCall(ctxFor('stripe', 'refund'), { paymentIntentId: intent.data.id, amount: 1000 });
    expect(refund.data).toEqual({ id: stringMatching(/^re_/), status: 'succeeded', paymentIntentId: intent.data.id, amount: 1000 });
    const read = await sendProviderCall(ctxFor('stripe', 'getPaymentIntent'), { id: intent.data.id });
    expect(read.data).toEqual(intent.data);
    expect(fake.state().refunds).toBe(1);
    const missing = await failureOf(sendProviderCall(ctxFor('stripe', 'getPaymentIntent'), { id: 'pi_missing' }));
    expect(missing.providerDetails).toMatchObject({ status: 404, code: 'resource_missing', retryable: false });
  });
});

describe('Twilio', () => {
  test('sendSms posts the form with Basic auth and the default sender', async () => {
    const ctx = ctxFor('twilio', 'sendSms');
    const result = await sendProviderCall(ctx, { to: '+14155550100', body: 'Your code is 1234' });
    expect(result.data).toEqual({ sid: stringMatching(/^SM[0-9a-f]{32}$/), status: 'queued', to: '+14155550100' });
    const [request] = fake.requests({ provider: 'twilio' });
    const { accountSid, authToken } = credentials.twilio!;
    expect(request?.path).toBe(`/2010-04-01/Accounts/${accountSid}/Messages.json`);
    expect(request?.headers.authorization).toBe(`Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`);
    expect(request?.body).toEqual({ To: '+14155550100', From: '+15005550006', Body: 'Your code is 1234' });
    expect(request?.idempotencyKey).toBe(ctx.idempotencyKey);
    expect(fake.state().sms.twilio).toBe(1);
  });

  test('an invalid number is rejected with Twilio’s code', async () => {
    const failure = await failureOf(sendProviderCall(ctxFor('twilio', 'sendSms'), { to: '555', body: 'hi' }));
    expect(failure.type).toBe('ProviderRejected');
    expect(failure.providerDetails).toMatchObject({ status: 400, code: '21211', retryable: false });
    expectNoCredentials(failure, 'twilio');
  });

  test('a reset connection is ProviderUnavailable (shared HTTP core)', async () => {
    fake.addFault({ provider: 'twilio', kind: 'reset', times: 1 });
    const failure = await failureOf(sendProviderCall(ctxFor('twilio', 'sendSms'), { to: '+14155550100', body: 'hi' }));
    expect(failure.type).toBe('ProviderUnavailable');
    expect(failure.message).toMatch(/^twilio sendSms: connection failed/);
    expect(failure.providerDetails).toEqual({ provider: 'twilio', operation: 'sendSms', status: null, code: null, retryable: true });
    expect(fake.state().sms.twilio).toBe(0);
  });

  test('a provider that never answers times out as ProviderUnavailable', async () => {
    fake.addFault({ provider: 'twilio', kind: 'timeout', times: 1 });
    const failure = await failureOf(sendProviderCall(ctxFor('twilio', 'sendSms', { timeoutMs: 200 }), { to: '+14155550100', body: 'hi' }));
    expect(failure.type).toBe('ProviderUnavailable');
    expect(failure.message).toBe('twilio sendSms: timed out after 200 ms');
  });

  test('503 with Retry-After is ProviderThrottled; without it, ProviderUnavailable', async () => {
    fake.addFault({ provider: 'twilio', kind: 'status', status: 503, retryAfterSeconds: 2, times: 1 });
    const throttled = await failureOf(sendProviderCall(ctxFor('twilio', 'sendSms'), { to: '+14155550100', body: 'hi' }));
    expect(throttled.type).toBe('ProviderThrottled');
    expect(throttled.nextRetryDelay).toBe(2000);
    fake.addFault({ provider: 'twilio', kind: 'status', status: 500, times: 1 });
    const unavailable = await failureOf(sendProviderCall(ctxFor('twilio', 'sendSms'), { to: '+14155550100', body: 'hi' }));
    expect(unavailable.type).toBe('ProviderUnavailable');
    expect(unavailable.nextRetryDelay).toBeUndefined();
  });

  test('a cancelled activity surfaces the cancellation, not a provider failure', async () => {
    fake.addFault({ provider: 'twilio', kind: 'latency', latencyMs: 2000, times: 1 });
    const controller = new AbortController();
    const call = sendProviderCall(ctxFor('twilio', 'sendSms', { signal: controller.signal }), { to: '+14155550100', body: 'hi' });
    const reason = new Error('activity cancelled');
    setTimeout(() => controller.abort(reason), 100);
    await expect(call).rejects.toBe(reason);
  });
});

describe('Vonage (backup SMS)', () => {
  test('sendSms maps to Vonage fields and reads the message id', async () => {
    const result = await sendProviderCall(ctxFor('backup-sms', 'sendSms'), { to: '+447700900123', body: 'hello' });
    expect(result.data).toEqual({ messageId: stringMatching(/^[0-9a-f]+$/), to: '+447700900123' });
    const [request] = fake.requests({ provider: 'vonage' });
    expect(request?.body).toEqual({ api_key: 'vonage-key', api_secret: 'vonage-secret-value', from: 'Switchyard', to: '447700900123', text: 'hello' });
    expect(fake.state().sms.vonage).toBe(1);
  });

  test('status "1" inside a 200 is retryable ProviderThrottled', async () => {
    fake.addFault({ provider: 'vonage', kind: 'status', status: 200, times: 1 });
    const failure = await failureOf(sendProviderCall(ctxFor('backup-sms', 'sendSms'), { to: '+447700900123', body: 'hello' }));
    expect(failure.type).toBe('ProviderThrottled');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.providerDetails).toEqual({ provider: 'backup-sms', operation: 'sendSms', status: 200, code: 'Throttled', retryable: true });
  });

  // In-200 rejections (status "2", "4", …) are pinned in test/unit/provider-classify.test.ts: the
  // adapter's schema and credential checks keep it from sending what the fake would reject that way.
  test('a validation error is non-retryable ProviderRejected with the error-text as code', async () => {
    fake.addFault({ provider: 'vonage', kind: 'validation', times: 1 });
    const failure = await failureOf(sendProviderCall(ctxFor('backup-sms', 'sendSms'), { to: '+447700900123', body: 'hello' }));
    expect(failure.type).toBe('ProviderRejected');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.providerDetails).toMatchObject({ status: 400, code: 'Missing to param', retryable: false });
    expectNoCredentials(failure, 'backup-sms');
  });
});

describe('SendGrid', () => {
  test('sendMail returns the X-Message-Id', async () => {
    const result = await sendProviderCall(ctxFor('sendgrid', 'sendMail'), { to: 'ada@example.com', subject: 'Hello', text: 'Hi Ada' });
    expect(result.data).toEqual({ messageId: anyString });
    const [request] = fake.requests({ provider: 'sendgrid' });
    expect(request?.headers.authorization).toBe(`Bearer ${credentials.sendgrid!.apiKey}`);
    expect(request?.body).toEqual({
      personalizations: [{ to: [{ email: 'ada@example.com' }] }],
      from: { email: 'no-reply@switchyard.local' },
      subject: 'Hello',
      content: [{ type: 'text/plain', value: 'Hi Ada' }],
    });
    expect(fake.state().mails).toBe(1);
  });

  test('a validation error is rejected with the field as code', async () => {
    fake.addFault({ provider: 'sendgrid', kind: 'validation', times: 1 });
    const failure = await failureOf(sendProviderCall(ctxFor('sendgrid', 'sendMail'), { to: 'ada@example.com', subject: 'Hello', text: 'Hi' }));
    expect(failure.type).toBe('ProviderRejected');
    expect(failure.providerDetails.status).toBe(400);
    expect(failure.providerDetails.code).toEqual(anyString);
  });
});

describe('Google Calendar', () => {
  const event = { calendarId: 'primary', summary: 'Check-in', start: '2030-05-01T10:00:00Z', end: '2030-05-01T11:00:00+00:00' };

  test('insertEvent names the event after the idempotency key; a retried insert makes one event', async () => {
    const idempotencyKey = randomUUID();
    const first = await sendProviderCall(ctxFor('google-calendar', 'insertEvent', { idempotencyKey }), event);
    expect(first.data).toEqual({ id: googleEventIdFor(idempotencyKey), status: 'confirmed', htmlLink: stringMatching(/^https:/) });
    const second = await sendProviderCall(ctxFor('google-calendar', 'insertEvent', { idempotencyKey }), event);
    expect(second.data).toEqual(first.data);
    expect(fake.state().calendarEvents).toEqual({ live: 1, deleted: 0 });
  });

  test('a service-account key (GOOGLE_CALENDAR_CREDENTIALS_FILE) is exchanged for the bearer token, and exchanged again once it expired', async () => {
    const account = createTestServiceAccount(fake);
    fake.setGoogleTokenLifetime(2);
    try {
      const ctx = (): ProviderCallContext => ({ ...ctxFor('google-calendar', 'insertEvent'), credentials: { serviceAccountKeyFile: account.keyFile } });
      await sendProviderCall(ctx(), event);
      await sendProviderCall(ctx(), event);
      await new Promise((resolve) => setTimeout(resolve, 2500));
      await sendProviderCall(ctx(), event);
      // One exchange for the first two calls, another after the expiry.
      expect(fake.requests({ provider: 'google-sheets', operation: 'token' }).map((r) => r.status)).toEqual([200, 200]);
      const inserts = fake.requests({ provider: 'google-calendar', operation: 'insertEvent' });
      expect(inserts.map((r) => r.status)).toEqual([200, 200, 200]);
      const tokens = inserts.map((r) => r.headers.authorization);
      expect(tokens[0]).toMatch(/^Bearer ya29\.fake-issued-/);
      expect(tokens[1]).toBe(tokens[0]);
      expect(tokens[2]).not.toBe(tokens[0]);
    } finally {
      fake.setGoogleTokenLifetime(3599);
    }
  });

  test('a 409 duplicate (the first insert landed, its answer was lost) reads the existing event back', async () => {
    const idempotencyKey = randomUUID();
    const id = googleEventIdFor(idempotencyKey);
    // The lost first attempt, sent without Idempotency-Key as Google ignores it anyway.
    const landed = await fetch(`${fake.url}/calendar/v3/calendars/primary/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${credentials['google-calendar']!.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id, summary: event.summary, start: { dateTime: event.start }, end: { dateTime: event.end } }),
    });
    expect(landed.status).toBe(200);
    const retried = await sendProviderCall(ctxFor('google-calendar', 'insertEvent', { idempotencyKey }), event);
    expect(retried.data).toMatchObject({ id, status: 'confirmed' });
    expect(fake.requests({ provider: 'google-calendar' }).map((r) => `${r.operation} ${r.status}`)).toEqual([
      'insertEvent 200',
      'insertEvent 409',
      'getEvent 200',
    ]);
    expect(fake.state().calendarEvents).toEqual({ live: 1, deleted: 0 });
  });

  test('getEvent, and deleteEvent is idempotent: deleted or missing events count as deleted', async () => {
    const inserted = await sendProviderCall(ctxFor('google-calendar', 'insertEvent'), { ...event, description: 'room 4' });
    const eventId = inserted.data.id as string;
    expect((await sendProviderCall(ctxFor('google-calendar', 'getEvent'), { calendarId: 'primary', eventId })).data).toEqual(inserted.data);
    const ref = { calendarId: 'primary', eventId };
    expect((await sendProviderCall(ctxFor('google-calendar', 'deleteEvent'), ref)).data).toEqual({ deleted: true, eventId });
    expect((await sendProviderCall(ctxFor('google-calendar', 'deleteEvent'), ref)).data).toEqual({ deleted: true, eventId });
    expect((await sendProviderCall(ctxFor('google-calendar', 'deleteEvent'), { calendarId: 'primary', eventId: 'neverexisted' })).data).toEqual({
      deleted: true,
      eventId: 'neverexisted',
    });
    expect(fake.requests({ provider: 'google-calendar', operation: 'deleteEvent' }).map((r) => r.status)).toEqual([204, 410, 404]);
    expect(fake.state().calendarEvents).toEqual({ live: 0, deleted: 1 });
    const gone = await failureOf(sendProviderCall(ctxFor('google-calendar', 'getEvent'), ref));
    expect(gone.providerDetails).toMatchObject({ status: 410, code: 'deleted', retryable: false });
  });

  test('429 with Retry-After is ProviderThrottled', async () => {
    fake.addFault({ provider: 'google-calendar', kind: 'rate-limit', retryAfterSeconds: 5, times: 1 });
    const failure = await failureOf(sendProviderCall(ctxFor('google-calendar', 'insertEvent'), event));
    expect(failure.type).toBe('ProviderThrottled');
    expect(failure.nextRetryDelay).toBe(5000);
    expect(failure.providerDetails.code).toBe('rateLimitExceeded');
  });
});

describe('generic HTTP provider (registry-declared operations)', () => {
  test('POST sends the JSON body with the bearer token', async () => {
    const ctx = ctxFor('httpbin', 'postAnything');
    const result = await sendProviderCall(ctx, { body: { hello: 'world' }, query: { tag: 'a b' } });
    expect(result.data).toMatchObject({ status: 200, body: { method: 'POST', json: { hello: 'world' }, args: { tag: 'a b' } } });
    const [request] = fake.requests({ provider: 'http' });
    expect(request?.headers.authorization).toBe(`Bearer ${credentials.httpbin!.bearerToken}`);
    expect(request?.idempotencyKey).toBe(ctx.idempotencyKey);
  });

  test('GET fills URL-encoded path params and sends no idempotency key', async () => {
    // One segment, encoded ('/' is refused: a path parameter never leaves its segment).
    const result = await sendProviderCall(ctxFor('httpbin', 'getAnything'), { pathParams: { id: 'order 7?b#c' } });
    expect(result.data).toMatchObject({ status: 200, body: { method: 'GET', url: '/anything/order%207%3Fb%23c' } });
    expect(fake.requests({ provider: 'http' })[0]?.idempotencyKey).toBeNull();
  });

  test('a missing path param fails before sending', async () => {
    const failure = await failureOf(sendProviderCall(ctxFor('httpbin', 'getAnything'), {}));
    expect(failure.type).toBe('InvalidCallParams');
    expect(fake.requests()).toHaveLength(0);
  });
});

test('requests are counted by provider, operation and outcome', async () => {
  const before = await countOf('twilio', 'sendSms', 'rejected');
  await failureOf(sendProviderCall(ctxFor('twilio', 'sendSms'), { to: '555', body: 'hi' }));
  expect(await countOf('twilio', 'sendSms', 'rejected')).toBe(before + 1);
  const metrics = await providerMetricsRegistry.metrics();
  expect(metrics).toContain('provider_request_duration_seconds_count{provider="twilio",operation="sendSms"}');
});

async function countOf(provider: string, operation: string, outcome: string): Promise<number> {
  const [metric] = (await providerMetricsRegistry.getMetricsAsJSON()).filter((m) => m.name === 'provider_requests_total');
  const value = metric?.values.find((v) => v.labels.provider === provider && v.labels.operation === operation && v.labels.outcome === outcome);
  return value?.value ?? 0;
}
