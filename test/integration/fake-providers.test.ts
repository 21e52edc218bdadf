/**
 * The fake provider server speaks each provider's real wire format, replays Idempotency-Keys,
 * injects every fault kind and is controllable over HTTP. Driven with plain fetch, as the
 * adapters will, so a mismatch here would show up as a false pass in the adapter tests.
 */
import { startFakeProviders, type FakeProviders } from '../fakes/provider-server';

const STRIPE_KEY = 'sk_test_switchyard_fake';
const TWILIO_SID = 'AC00000000000000000000000000000001';
const TWILIO_BASIC = `Basic ${Buffer.from(`${TWILIO_SID}:token`).toString('base64')}`;
const GOOGLE_AUTH = { authorization: 'Bearer ya29.fake-token' };
const CALENDAR = '/calendar/v3/calendars/team%40example.com/events';

let fakes: FakeProviders;

beforeAll(async () => {
  fakes = await startFakeProviders();
});
afterAll(async () => {
  await fakes?.close();
});
beforeEach(() => {
  fakes.reset();
});

type Json = Record<string, unknown>;

async function jsonOf(res: Response): Promise<Json> {
  return (await res.json()) as Json;
}

function postForm(path: string, params: Record<string, string>, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(`${fakes.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params).toString(),
    signal,
  });
}

function postJson(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${fakes.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

function createPaymentIntent(params: Record<string, string> = {}, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return postForm('/v1/payment_intents', { amount: '2000', currency: 'usd', ...params }, { authorization: `Bearer ${STRIPE_KEY}`, ...headers }, signal);
}

function sendTwilioSms(to = '+14155550100', headers: Record<string, string> = {}): Promise<Response> {
  return postForm(
    `/2010-04-01/Accounts/${TWILIO_SID}/Messages.json`,
    { To: to, From: '+14155550199', Body: 'hello' },
    { authorization: TWILIO_BASIC, ...headers },
  );
}

function sendVonageSms(params: Record<string, string> = {}): Promise<Response> {
  return postForm('/sms/json', { api_key: 'key', api_secret: 'secret', from: 'Switchyard', to: '+447700900000', text: 'hello', ...params });
}

const MAIL = {
  personalizations: [{ to: [{ email: 'ada@example.com' }] }],
  from: { email: 'noreply@example.com' },
  subject: 'Hello',
  content: [{ type: 'text/plain', value: 'Hi Ada' }],
};

function sendMail(body: unknown = MAIL, authorization = 'Bearer SG.fake-key'): Promise<Response> {
  return postJson('/v3/mail/send', body, { authorization });
}

const EVENT = { summary: 'Kick-off', start: { dateTime: '2030-01-01T10:00:00Z' }, end: { dateTime: '2030-01-01T11:00:00Z' } };

/** Polls a synchronous condition (in-process state) until it holds. */
async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('Stripe', () => {
  test('creates a payment intent from a form-encoded body, reads it back and refunds it', async () => {
    const res = await createPaymentIntent({ customer: 'cus_1', description: 'order 42', 'metadata[order]': '42' });
    expect(res.status).toBe(200);
    const intent = await jsonOf(res);
    expect(intent).toMatchObject({
      object: 'payment_intent',
      amount: 2000,
      amount_received: 2000,
      currency: 'usd',
      status: 'succeeded',
      customer: 'cus_1',
      description: 'order 42',
      metadata: { order: '42' },
    });
    expect(intent.id).toMatch(/^pi_[A-Za-z0-9]{24}$/);
    expect(typeof intent.created).toBe('number');

    const read = await fetch(`${fakes.url}/v1/payment_intents/${String(intent.id)}`, { headers: { authorization: `Bearer ${STRIPE_KEY}` } });
    expect(read.status).toBe(200);
    expect(await jsonOf(read)).toEqual(intent);

    const refund = await postForm('/v1/refunds', { payment_intent: String(intent.id) }, { authorization: `Bearer ${STRIPE_KEY}` });
    expect(refund.status).toBe(200);
    expect(await jsonOf(refund)).toMatchObject({ object: 'refund', amount: 2000, payment_intent: intent.id, status: 'succeeded' });
    expect(fakes.state()).toMatchObject({ charges: 1, refunds: 1 });

    const [record] = fakes.requests({ provider: 'stripe', operation: 'createPaymentIntent' });
    expect(record).toMatchObject({
      seq: 1,
      method: 'POST',
      path: '/v1/payment_intents',
      body: { amount: '2000', currency: 'usd', 'metadata[order]': '42' },
      idempotencyKey: null,
      replayed: false,
      status: 200,
      fault: null,
    });
    expect(record?.headers.authorization).toBe(`Bearer ${STRIPE_KEY}`);
  });

  test('answers Stripe errors: bad key (not echoed), missing amount, too small, declined card, unknown intent', async () => {
    const badKey = await createPaymentIntent({}, { authorization: 'Bearer pk_live_secretish' });
    expect(badKey.status).toBe(401);
    const badKeyText = await badKey.text();
    expect(JSON.parse(badKeyText)).toMatchObject({ error: { type: 'invalid_request_error' } });
    expect(badKeyText).not.toContain('pk_live_secretish');

    const missing = await postForm('/v1/payment_intents', { currency: 'usd' }, { authorization: `Bearer ${STRIPE_KEY}` });
    expect(missing.status).toBe(400);
    expect(await jsonOf(missing)).toMatchObject({ error: { type: 'invalid_request_error', code: 'parameter_missing', param: 'amount' } });

    const small = await createPaymentIntent({ amount: '10' });
    expect(small.status).toBe(400);
    expect(await jsonOf(small)).toMatchObject({ error: { code: 'amount_too_small' } });

    const declined = await createPaymentIntent({ payment_method: 'pm_card_chargeDeclined', confirm: 'true' });
    expect(declined.status).toBe(402);
    expect(await jsonOf(declined)).toEqual({
      error: { type: 'card_error', code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' },
    });

    const unknownRefund = await postForm('/v1/refunds', { payment_intent: 'pi_nope' }, { authorization: `Bearer ${STRIPE_KEY}` });
    expect(unknownRefund.status).toBe(400);
    expect(await jsonOf(unknownRefund)).toMatchObject({ error: { code: 'resource_missing' } });

    const unknownGet = await fetch(`${fakes.url}/v1/payment_intents/pi_nope`, { headers: { authorization: `Bearer ${STRIPE_KEY}` } });
    expect(unknownGet.status).toBe(404);
    expect(await jsonOf(unknownGet)).toMatchObject({ error: { type: 'invalid_request_error', code: 'resource_missing' } });

    expect(fakes.state()).toMatchObject({ charges: 0, refunds: 0 });
  });
});

describe('Idempotency-Key', () => {
  test('a repeated key replays the first answer with Idempotent-Replayed and charges once', async () => {
    const first = await createPaymentIntent({}, { 'idempotency-key': 'order-42' });
    const second = await createPaymentIntent({}, { 'idempotency-key': 'order-42' });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(await second.text()).toBe(await first.text());
    expect(fakes.state().charges).toBe(1);
    expect(fakes.requests().map((r) => [r.idempotencyKey, r.replayed])).toEqual([
      ['order-42', false],
      ['order-42', true],
    ]);

    const otherKey = await createPaymentIntent({}, { 'idempotency-key': 'order-43' });
    expect(otherKey.headers.get('idempotent-replayed')).toBeNull();
    expect(fakes.state().charges).toBe(2);
  });

  test('applies to other providers too (Twilio sends one SMS)', async () => {
    const first = await sendTwilioSms(undefined, { 'idempotency-key': 'sms-1' });
    const second = await sendTwilioSms(undefined, { 'idempotency-key': 'sms-1' });
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect((await jsonOf(second)).sid).toBe((await jsonOf(first)).sid);
    expect(fakes.state().sms.twilio).toBe(1);
  });
});

describe('Twilio', () => {
  test('sends an SMS with Basic auth and a form body', async () => {
    const res = await sendTwilioSms();
    expect(res.status).toBe(201);
    const message = await jsonOf(res);
    expect(message).toMatchObject({
      account_sid: TWILIO_SID,
      to: '+14155550100',
      from: '+14155550199',
      body: 'hello',
      status: 'queued',
      num_segments: '1',
      price: null,
    });
    expect(message.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(typeof message.date_created).toBe('string');
    expect(fakes.state().sms).toEqual({ twilio: 1, vonage: 0 });
    expect(fakes.requests({ provider: 'twilio' })[0]).toMatchObject({ operation: 'sendSms', body: { To: '+14155550100' } });
  });

  test('answers 20003 when the account in the credentials is not the one in the path, 21211 for a non-E.164 number', async () => {
    const otherAccount = `Basic ${Buffer.from('ACother:token').toString('base64')}`;
    const unauthorized = await sendTwilioSms(undefined, { authorization: otherAccount });
    expect(unauthorized.status).toBe(401);
    expect(await jsonOf(unauthorized)).toEqual({
      code: 20003,
      message: 'Authenticate',
      more_info: 'https://www.twilio.com/docs/errors/20003',
      status: 401,
    });

    const invalid = await sendTwilioSms('555-0100');
    expect(invalid.status).toBe(400);
    expect(await jsonOf(invalid)).toEqual({
      code: 21211,
      message: "The 'To' number 555-0100 is not a valid phone number.",
      more_info: 'https://www.twilio.com/docs/errors/21211',
      status: 400,
    });
    expect(fakes.state().sms.twilio).toBe(0);
  });
});

describe('Vonage', () => {
  test('sends an SMS and reports it in the messages array', async () => {
    const res = await sendVonageSms();
    expect(res.status).toBe(200);
    const body = await jsonOf(res);
    expect(body['message-count']).toBe('1');
    expect(body.messages).toEqual([
      expect.objectContaining({ to: '447700900000', status: '0', 'remaining-balance': '10.00', 'message-price': '0.0095', network: '23410' }),
    ]);
    expect(fakes.state().sms).toEqual({ twilio: 0, vonage: 1 });
  });

  test('reports bad credentials, a missing param and throttling inside a 200', async () => {
    const badCredentials = await sendVonageSms({ api_secret: '' });
    expect(badCredentials.status).toBe(200);
    expect(await jsonOf(badCredentials)).toMatchObject({ messages: [{ status: '4', 'error-text': 'Bad Credentials' }] });

    const missingTo = await sendVonageSms({ to: '' });
    expect(missingTo.status).toBe(200);
    expect(await jsonOf(missingTo)).toMatchObject({ messages: [{ status: '2', 'error-text': 'Missing to param' }] });

    fakes.addFault({ provider: 'vonage', kind: 'status', status: 200, times: 1 });
    const throttled = await sendVonageSms();
    expect(throttled.status).toBe(200);
    expect(await jsonOf(throttled)).toMatchObject({ messages: [{ status: '1', 'error-text': 'Throttled' }] });

    expect(fakes.state().sms.vonage).toBe(0);
  });
});

describe('SendGrid', () => {
  test('accepts a mail with 202, an empty body and X-Message-Id', async () => {
    const res = await sendMail();
    expect(res.status).toBe(202);
    expect(await res.text()).toBe('');
    expect(res.headers.get('x-message-id')).toMatch(/^\S{10,}$/);
    expect(fakes.state().mails).toBe(1);
  });

  test('answers 401 without an SG. key and 400 naming the missing field', async () => {
    const unauthorized = await sendMail(MAIL, 'Bearer not-a-sendgrid-key');
    expect(unauthorized.status).toBe(401);
    expect(await jsonOf(unauthorized)).toEqual({
      errors: [{ message: 'The provided authorization grant is invalid, expired, or revoked', field: null, help: null }],
    });

    const { subject: _subject, ...withoutSubject } = MAIL;
    const invalid = await sendMail(withoutSubject);
    expect(invalid.status).toBe(400);
    const { errors } = (await jsonOf(invalid)) as { errors: { field: string; message: string }[] };
    expect(errors).toHaveLength(1);
    expect(errors[0]?.field).toBe('subject');
    expect(errors[0]?.message).toMatch(/^The subject is required/);
    expect(fakes.state().mails).toBe(0);
  });
});

describe('Google Calendar', () => {
  test('inserts, reads and deletes an event; a client-chosen id repeats as 409 duplicate, a second delete as 410', async () => {
    const inserted = await postJson(CALENDAR, { id: 'kickoff0001', ...EVENT }, GOOGLE_AUTH);
    expect(inserted.status).toBe(200);
    const event = await jsonOf(inserted);
    expect(event).toMatchObject({ kind: 'calendar#event', id: 'kickoff0001', status: 'confirmed', summary: 'Kick-off', start: EVENT.start, end: EVENT.end });
    expect(typeof event.htmlLink).toBe('string');

    const duplicate = await postJson(CALENDAR, { id: 'kickoff0001', ...EVENT }, GOOGLE_AUTH);
    expect(duplicate.status).toBe(409);
    expect(await jsonOf(duplicate)).toEqual({
      error: { code: 409, message: 'The requested identifier already exists.', errors: [{ domain: 'global', reason: 'duplicate' }] },
    });

    const read = await fetch(`${fakes.url}${CALENDAR}/kickoff0001`, { headers: GOOGLE_AUTH });
    expect(read.status).toBe(200);
    expect(await jsonOf(read)).toEqual(event);

    const deleted = await fetch(`${fakes.url}${CALENDAR}/kickoff0001`, { method: 'DELETE', headers: GOOGLE_AUTH });
    expect(deleted.status).toBe(204);
    expect(fakes.state().calendarEvents).toEqual({ live: 0, deleted: 1 });

    const deletedAgain = await fetch(`${fakes.url}${CALENDAR}/kickoff0001`, { method: 'DELETE', headers: GOOGLE_AUTH });
    expect(deletedAgain.status).toBe(410);
    expect(await jsonOf(deletedAgain)).toMatchObject({ error: { code: 410, errors: [{ reason: 'deleted' }] } });

    const readDeleted = await fetch(`${fakes.url}${CALENDAR}/kickoff0001`, { headers: GOOGLE_AUTH });
    expect(readDeleted.status).toBe(410);

    const neverExisted = await fetch(`${fakes.url}${CALENDAR}/neverexisted1`, { method: 'DELETE', headers: GOOGLE_AUTH });
    expect(neverExisted.status).toBe(404);
    expect(await jsonOf(neverExisted)).toMatchObject({ error: { code: 404, errors: [{ reason: 'notFound' }] } });

    expect(fakes.requests({ provider: 'google-calendar' }).map((r) => r.operation)).toEqual([
      'insertEvent',
      'insertEvent',
      'getEvent',
      'deleteEvent',
      'deleteEvent',
      'getEvent',
      'deleteEvent',
    ]);
  });

  test('generates an id when none is given; rejects a non-base32hex id, a missing end and a missing token', async () => {
    const generated = await postJson(CALENDAR, EVENT, GOOGLE_AUTH);
    expect(generated.status).toBe(200);
    expect((await jsonOf(generated)).id).toMatch(/^[a-v0-9]{5,1024}$/);

    const badId = await postJson(CALENDAR, { id: 'Not-Base32hex!', ...EVENT }, GOOGLE_AUTH);
    expect(badId.status).toBe(400);
    expect(await jsonOf(badId)).toEqual({
      error: { code: 400, message: 'Invalid resource id value.', errors: [{ domain: 'global', reason: 'invalid' }] },
    });

    const missingEnd = await postJson(CALENDAR, { summary: 'x', start: EVENT.start }, GOOGLE_AUTH);
    expect(missingEnd.status).toBe(400);
    expect(await jsonOf(missingEnd)).toMatchObject({ error: { code: 400, errors: [{ reason: 'required' }] } });

    const unauthenticated = await postJson(CALENDAR, EVENT);
    expect(unauthenticated.status).toBe(401);
    expect(await jsonOf(unauthenticated)).toEqual({
      error: {
        code: 401,
        message: 'Request had invalid authentication credentials.',
        errors: [{ domain: 'global', reason: 'authError' }],
        status: 'UNAUTHENTICATED',
      },
    });
    expect(fakes.state().calendarEvents).toEqual({ live: 1, deleted: 0 });
  });
});

describe('generic HTTP (httpbin-like)', () => {
  test('echoes method, url, args, headers without Authorization, and the JSON body', async () => {
    const get = await fetch(`${fakes.url}/anything/items/7?expand=owner&page=2`, { headers: { authorization: 'Bearer secret-token', 'x-trace': 'abc' } });
    expect(get.status).toBe(200);
    const echo = await jsonOf(get);
    expect(echo).toMatchObject({ method: 'GET', url: '/anything/items/7?expand=owner&page=2', args: { expand: 'owner', page: '2' }, json: null });
    expect(echo.headers).toMatchObject({ 'x-trace': 'abc' });
    expect(echo.headers).not.toHaveProperty('authorization');
    expect(JSON.stringify(echo)).not.toContain('secret-token');

    const put = await fetch(`${fakes.url}/anything`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ a: [1, 2] }) });
    expect(await jsonOf(put)).toMatchObject({ method: 'PUT', url: '/anything', json: { a: [1, 2] } });

    expect(fakes.requests({ provider: 'http' }).map((r) => r.operation)).toEqual(['GET /anything/items/7', 'PUT /anything']);
    expect(fakes.requests({ provider: 'http' })[0]?.headers.authorization).toBe('Bearer secret-token');
  });

  test('answers 404 for a path no provider serves', async () => {
    const res = await fetch(`${fakes.url}/v2/unknown`);
    expect(res.status).toBe(404);
    expect(fakes.requests()).toEqual([]);
  });
});

describe('faults', () => {
  test('status: 503 with Retry-After in the provider format, nothing processed, recorded with the fault', async () => {
    fakes.addFault({ provider: 'stripe', operation: 'createPaymentIntent', kind: 'status', status: 503, retryAfterSeconds: 7, times: 1 });
    const res = await createPaymentIntent({}, { 'idempotency-key': 'k1' });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(await jsonOf(res)).toMatchObject({ error: { type: 'api_error' } });
    expect(fakes.state().charges).toBe(0);
    expect(fakes.requests()[0]).toMatchObject({ status: 503, fault: 'status', replayed: false });

    // The fault answer was not stored under the key: the retry reaches the provider.
    const retry = await createPaymentIntent({}, { 'idempotency-key': 'k1' });
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect(fakes.state().charges).toBe(1);
  });

  test('status: defaults to 500 without Retry-After', async () => {
    fakes.addFault({ provider: 'sendgrid', kind: 'status' });
    const res = await sendMail();
    expect(res.status).toBe(500);
    expect(res.headers.get('retry-after')).toBeNull();
    const { errors } = (await jsonOf(res)) as { errors: { message: unknown }[] };
    expect(typeof errors[0]?.message).toBe('string');
  });

  test.each([
    ['stripe', () => createPaymentIntent(), { error: { type: 'rate_limit_error', code: 'rate_limit' } }],
    ['twilio', () => sendTwilioSms(), { code: 20429, message: 'Too Many Requests', status: 429 }],
    ['vonage', () => sendVonageSms(), { error: 'rate limited' }],
    ['sendgrid', () => sendMail(), { errors: [{ message: 'too many requests' }] }],
    ['google-calendar', () => postJson(CALENDAR, EVENT, GOOGLE_AUTH), { error: { code: 429, message: 'Rate Limit Exceeded', errors: [{ reason: 'rateLimitExceeded' }] } }],
    ['http', () => fetch(`${fakes.url}/anything`), { error: 'rate limited' }],
  ] as const)('rate-limit on %s: 429, Retry-After (default 1) and the provider body', async (provider, call, body) => {
    fakes.addFault({ provider, kind: 'rate-limit', times: 1 });
    const res = await call();
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await jsonOf(res)).toMatchObject(body);
    expect(fakes.state()).toMatchObject({ charges: 0, sms: { twilio: 0, vonage: 0 }, mails: 0, calendarEvents: { live: 0 } });
    expect(fakes.requests()[0]).toMatchObject({ provider, status: 429, fault: 'rate-limit' });
  });

  test('rate-limit honours retryAfterSeconds', async () => {
    fakes.addFault({ provider: 'twilio', kind: 'rate-limit', retryAfterSeconds: 30 });
    expect((await sendTwilioSms()).headers.get('retry-after')).toBe('30');
  });

  test('validation: 400 with the provider validation body', async () => {
    fakes.addFault({ provider: 'stripe', kind: 'validation' });
    fakes.addFault({ provider: 'twilio', kind: 'validation' });
    const stripeRes = await createPaymentIntent();
    expect(stripeRes.status).toBe(400);
    expect(await jsonOf(stripeRes)).toMatchObject({ error: { type: 'invalid_request_error', code: 'parameter_missing' } });
    const twilioRes = await sendTwilioSms();
    expect(twilioRes.status).toBe(400);
    expect(await jsonOf(twilioRes)).toMatchObject({ code: 21211, status: 400 });
    expect(fakes.state()).toMatchObject({ charges: 0, sms: { twilio: 0 } });
  });

  test('latency: the charge happens at once, the answer comes late; a retry with the same key is replayed meanwhile', async () => {
    const latencyMs = 2000;
    fakes.addFault({ provider: 'stripe', operation: 'createPaymentIntent', kind: 'latency', latencyMs, times: 1 });
    const started = Date.now();
    let answered = false;
    const late = createPaymentIntent({}, { 'idempotency-key': 'slow-1' }).then((res) => {
      answered = true;
      return res;
    });

    await waitFor(() => fakes.state().charges === 1);
    expect(answered).toBe(false);
    expect(fakes.requests()[0]).toMatchObject({ status: 200, fault: 'latency', replayed: false });

    const retry = await createPaymentIntent({}, { 'idempotency-key': 'slow-1' });
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(answered).toBe(false);

    const res = await late;
    expect(Date.now() - started).toBeGreaterThanOrEqual(latencyMs - 50);
    expect(res.status).toBe(200);
    expect(await jsonOf(res)).toEqual(await jsonOf(retry));
    expect(fakes.state().charges).toBe(1);
  });

  test('timeout: processed, never answered; the client gives up', async () => {
    fakes.addFault({ provider: 'stripe', kind: 'timeout', times: 1 });
    await expect(createPaymentIntent({}, {}, AbortSignal.timeout(1000))).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(fakes.state().charges).toBe(1);
    expect(fakes.requests()[0]).toMatchObject({ fault: 'timeout', status: null });

    expect((await createPaymentIntent()).status).toBe(200);
  });

  test('reset: the connection is destroyed and nothing is processed', async () => {
    fakes.addFault({ provider: 'stripe', kind: 'reset', times: 1 });
    // undici's TypeError comes from outside jest's realm, so match by name, not constructor.
    await expect(createPaymentIntent()).rejects.toMatchObject({ name: 'TypeError', message: 'fetch failed' });
    expect(fakes.state().charges).toBe(0);
    expect(fakes.requests()[0]).toMatchObject({ fault: 'reset', status: null, body: { amount: '2000' } });

    expect((await createPaymentIntent()).status).toBe(200);
  });

  test('times: a rule expires after that many matching requests; without times it stays until cleared', async () => {
    fakes.addFault({ provider: 'twilio', kind: 'status', status: 503, times: 2 });
    expect((await sendTwilioSms()).status).toBe(503);
    expect((await sendTwilioSms()).status).toBe(503);
    expect((await sendTwilioSms()).status).toBe(201);

    fakes.addFault({ provider: 'twilio', kind: 'status', status: 502 });
    for (let i = 0; i < 3; i++) expect((await sendTwilioSms()).status).toBe(502);
    fakes.clearFaults();
    expect((await sendTwilioSms()).status).toBe(201);
    expect(fakes.state().sms.twilio).toBe(2);
  });

  test('hold: both requests are processed on arrival, and answered together once the second has come', async () => {
    fakes.addFault({ provider: 'stripe', operation: 'createPaymentIntent', kind: 'hold', times: 2 });
    let firstAnswered = false;
    const first = createPaymentIntent({}, { 'idempotency-key': 'held-1' }).then((res) => {
      firstAnswered = true;
      return res;
    });
    await waitFor(() => fakes.state().charges === 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(firstAnswered).toBe(false);
    const second = await createPaymentIntent({}, { 'idempotency-key': 'held-2' });
    expect(second.status).toBe(200);
    expect((await first).status).toBe(200);
    expect(fakes.state().charges).toBe(2);
    expect(fakes.requests().map((r) => r.fault)).toEqual(['hold', 'hold']);
  });

  test('a rule with an operation only hits that operation', async () => {
    fakes.addFault({ provider: 'stripe', operation: 'refund', kind: 'status', status: 500 });
    const intent = await createPaymentIntent();
    expect(intent.status).toBe(200);
    const refund = await postForm('/v1/refunds', { payment_intent: String((await jsonOf(intent)).id) }, { authorization: `Bearer ${STRIPE_KEY}` });
    expect(refund.status).toBe(500);
  });

  test('an invalid rule is refused', () => {
    expect(() => fakes.addFault({ provider: 'stripe', kind: 'latency' })).toThrow(/latencyMs/);
    expect(() => fakes.addFault({ provider: 'stripe', kind: 'hold', times: 1 })).toThrow(/times/);
    expect(() => fakes.addFault({ provider: 'square' as 'stripe', kind: 'status' })).toThrow(/provider/);
  });
});

describe('control API over HTTP', () => {
  const control = (path: string, init?: RequestInit): Promise<Response> => fetch(`${fakes.url}/__fake${path}`, init);
  const addFault = (rule: unknown): Promise<Response> =>
    control('/faults', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rule) });

  test('faults: add, hit, remove one, clear all; an invalid rule is a 400', async () => {
    const added = await addFault({ provider: 'sendgrid', kind: 'status', status: 503, retryAfterSeconds: 2 });
    expect(added.status).toBe(201);
    const { id } = (await jsonOf(added)) as { id: string };
    expect(typeof id).toBe('string');
    const faulted = await sendMail();
    expect(faulted.status).toBe(503);
    expect(faulted.headers.get('retry-after')).toBe('2');

    expect((await control(`/faults/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await control(`/faults/${id}`, { method: 'DELETE' })).status).toBe(404);
    expect((await sendMail()).status).toBe(202);

    await addFault({ provider: 'sendgrid', kind: 'rate-limit' });
    await addFault({ provider: 'twilio', kind: 'reset' });
    expect((await control('/faults', { method: 'DELETE' })).status).toBe(204);
    expect((await sendMail()).status).toBe(202);
    expect((await sendTwilioSms()).status).toBe(201);

    const invalid = await addFault({ provider: 'stripe', kind: 'explode' });
    expect(invalid.status).toBe(400);
    expect((await jsonOf(invalid)).error).toMatch(/kind/);
    expect((await addFault({ provider: 'stripe', kind: 'status', retryAfter: 3 })).status).toBe(400);
  });

  test('requests: filtered listing; clearing them keeps the state', async () => {
    await createPaymentIntent();
    await sendTwilioSms();
    await sendVonageSms();

    const all = await jsonOf(await control('/requests'));
    expect((all.requests as unknown[]).length).toBe(3);
    const twilioOnly = await jsonOf(await control('/requests?provider=twilio&operation=sendSms'));
    expect(twilioOnly.requests).toEqual([expect.objectContaining({ provider: 'twilio', operation: 'sendSms', method: 'POST', status: 201 })]);
    const sms = await jsonOf(await control('/requests?operation=sendSms'));
    expect((sms.requests as { provider: string }[]).map((r) => r.provider)).toEqual(['twilio', 'vonage']);

    expect((await control('/requests', { method: 'DELETE' })).status).toBe(204);
    expect(await jsonOf(await control('/requests'))).toEqual({ requests: [] });
    expect(await jsonOf(await control('/state'))).toEqual({
      charges: 1,
      refunds: 0,
      sms: { twilio: 1, vonage: 1 },
      mails: 0,
      calendarEvents: { live: 0, deleted: 0 },
      sheets: { spreadsheets: 0, cellsWritten: 0, tokensIssued: 0 },
      googleTokenRefreshes: 0,
      reviewReplies: 0,
      airtableRecords: 0,
      whatsapp: 0,
      twilioOptOuts: [],
      paypal: { orders: 0, captures: [], refunds: [] },
    });
  });

  test('reset clears records, faults, state and stored idempotent answers', async () => {
    await createPaymentIntent({}, { 'idempotency-key': 'before-reset' });
    await addFault({ provider: 'sendgrid', kind: 'status' });
    expect((await control('/reset', { method: 'POST' })).status).toBe(204);

    expect(await jsonOf(await control('/state'))).toEqual({
      charges: 0,
      refunds: 0,
      sms: { twilio: 0, vonage: 0 },
      mails: 0,
      calendarEvents: { live: 0, deleted: 0 },
      sheets: { spreadsheets: 0, cellsWritten: 0, tokensIssued: 0 },
      googleTokenRefreshes: 0,
      reviewReplies: 0,
      airtableRecords: 0,
      whatsapp: 0,
      twilioOptOuts: [],
      paypal: { orders: 0, captures: [], refunds: [] },
    });
    expect(fakes.requests()).toEqual([]);
    expect((await sendMail()).status).toBe(202);
    const again = await createPaymentIntent({}, { 'idempotency-key': 'before-reset' });
    expect(again.headers.get('idempotent-replayed')).toBeNull();
    expect(fakes.state().charges).toBe(1);
  });
});
