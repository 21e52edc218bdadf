/**
 * The PayPal adapter against the fake PayPal (test/fakes/providers/paypal.ts), no Temporal: the
 * wire mapping (OAuth2 token with Basic auth, order create + capture, capture refund, decimal
 * amounts, PayPal-Request-Id), the token cache, one capture per idempotency key even when the
 * capture answer is lost, and PayPal's error shapes classified like every other provider's.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { OutboundPolicy } from '../../lib/security/outbound-policy';
import { loadRegistry } from '../../lib/config/registry';
import { closeProviderConnections } from '../../providers/prepare-provider-call';
import type { ProviderFailureDetails } from '../../providers/core/classify';
import { clearPayPalTokens } from '../../providers/paypal/adapter';
import type { ProviderCallContext } from '../../providers/core/adapter-types';
import { startFakeProviders, type FakeProviders } from '../fakes/provider-server';
import { sendProviderCall } from '../support/provider-calls';

const registry = loadRegistry({});
const outbound = new OutboundPolicy({ allow: ['127.0.0.1', '::1'], allowHttp: true });
const credentials = { clientId: 'paypal-client-id-test', clientSecret: 'paypal-client-secret-test' };

let fake: FakeProviders;

beforeAll(async () => {
  fake = await startFakeProviders();
});

afterAll(async () => {
  await closeProviderConnections();
  await fake.close();
});

beforeEach(() => {
  fake.reset();
  clearPayPalTokens();
});

function ctxFor(operation: string, options: { idempotencyKey?: string; timeoutMs?: number; credentials?: Record<string, string> } = {}): ProviderCallContext {
  const config = registry.paypal!;
  return {
    provider: { ...config, baseUrl: fake.url, timeoutMs: options.timeoutMs ?? config.timeoutMs },
    operation,
    credentials: options.credentials ?? credentials,
    idempotencyKey: options.idempotencyKey ?? randomUUID(),
    outbound,
  };
}

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

const payment = { amount: 4200, currency: 'usd', description: 'Haircut', metadata: { booking: 'booking:t:42' } };

test('charge: token by client credentials, order create + capture in PayPal JSON, decimal amount, capture id as charge id', async () => {
  const key = randomUUID();
  const result = await sendProviderCall(ctxFor('charge', { idempotencyKey: key }), payment);
  expect(result.data).toEqual({
    id: expect.stringMatching(/^[A-Z0-9]{17}$/) as unknown,
    chargeId: result.data.id,
    orderId: expect.stringMatching(/^[A-Z0-9]{17}$/) as unknown,
    status: 'COMPLETED',
    amount: 4200,
    currency: 'usd',
  });

  const [token, create, capture, ...rest] = fake.requests({ provider: 'paypal' });
  expect(rest).toEqual([]);
  expect(token).toMatchObject({ operation: 'token', method: 'POST', path: '/v1/oauth2/token', body: { grant_type: 'client_credentials' }, status: 200 });
  expect(token!.headers.authorization).toBe(`Basic ${Buffer.from('paypal-client-id-test:paypal-client-secret-test').toString('base64')}`);
  expect(create).toMatchObject({
    operation: 'createOrder',
    path: '/v2/checkout/orders',
    status: 201,
    idempotencyKey: `${key}-order`,
    body: {
      intent: 'CAPTURE',
      purchase_units: [{ reference_id: 'default', amount: { currency_code: 'USD', value: '42.00' }, description: 'Haircut', custom_id: 'booking:t:42' }],
    },
  });
  expect(create!.headers.authorization).toMatch(/^Bearer A21AA/);
  expect(capture).toMatchObject({ operation: 'captureOrder', path: `/v2/checkout/orders/${String(result.data.orderId)}/capture`, status: 201, idempotencyKey: `${key}-capture` });
  expect(fake.state().paypal.captures).toEqual([{ id: result.data.id, orderId: result.data.orderId, currency_code: 'USD', value: '42.00' }]);
});

test('zero-decimal currencies go out without decimals', async () => {
  const result = await sendProviderCall(ctxFor('charge'), { amount: 500, currency: 'JPY' });
  expect(result.data).toMatchObject({ amount: 500, currency: 'jpy' });
  expect(fake.state().paypal.captures).toEqual([expect.objectContaining({ currency_code: 'JPY', value: '500' }) as unknown]);
  const refused = await failureOf(sendProviderCall(ctxFor('charge'), { amount: 12345, currency: 'huf' }));
  expect(refused).toMatchObject({ type: 'ProviderRequestInvalid', nonRetryable: true });
  expect(refused.providerDetails.code).toBe('amount_not_representable');
});

test('the access token is cached across calls, and fetched again once when PayPal refuses it', async () => {
  await sendProviderCall(ctxFor('charge'), payment);
  await sendProviderCall(ctxFor('charge'), payment);
  expect(fake.requests({ provider: 'paypal', operation: 'token' })).toHaveLength(1);

  fake.reset(); // the fake forgets its tokens: the cached one is now refused with 401
  const result = await sendProviderCall(ctxFor('charge'), payment);
  expect(result.data.status).toBe('COMPLETED');
  expect(fake.requests({ provider: 'paypal' }).map((r) => [r.operation, r.status])).toEqual([
    ['createOrder', 401],
    ['token', 200],
    ['createOrder', 201],
    ['captureOrder', 201],
  ]);
});

test('the same idempotency key gives the same capture, never a second one, even when the capture answer was lost', async () => {
  const key = randomUUID();
  fake.addFault({ provider: 'paypal', operation: 'captureOrder', kind: 'timeout', times: 1 });
  const lost = await failureOf(sendProviderCall(ctxFor('charge', { idempotencyKey: key, timeoutMs: 500 }), payment));
  expect(lost).toMatchObject({ type: 'ProviderUnavailable', nonRetryable: false });
  expect(fake.state().paypal.captures).toHaveLength(1); // PayPal captured; the answer never came

  const retried = await sendProviderCall(ctxFor('charge', { idempotencyKey: key }), payment);
  const again = await sendProviderCall(ctxFor('charge', { idempotencyKey: key }), payment);
  expect(again.data).toEqual(retried.data);
  expect(fake.state().paypal).toMatchObject({ orders: 1, captures: [{ id: retried.data.chargeId }] });
  const captures = fake.requests({ provider: 'paypal', operation: 'captureOrder' });
  expect(captures.map((c) => [c.idempotencyKey, c.replayed])).toEqual([
    [`${key}-capture`, false],
    [`${key}-capture`, true],
    [`${key}-capture`, true],
  ]);
});

test('refundCharge refunds the capture, fully or partly, in PayPal decimals; a second full refund is rejected', async () => {
  const charged = await sendProviderCall(ctxFor('charge'), payment);
  const captureId = String(charged.data.chargeId);
  const partial = await sendProviderCall(ctxFor('refundCharge'), { chargeId: captureId, amount: 1000, currency: 'usd' });
  expect(partial.data).toEqual({ id: expect.stringMatching(/^[A-Z0-9]{17}$/) as unknown, status: 'COMPLETED', chargeId: captureId, amount: 1000 });
  const rest = await sendProviderCall(ctxFor('refundCharge'), { chargeId: captureId });
  expect(rest.data).toMatchObject({ status: 'COMPLETED', amount: 3200 });
  expect(fake.requests({ provider: 'paypal', operation: 'refundCapture' })[0]).toMatchObject({
    path: `/v2/payments/captures/${captureId}/refund`,
    body: { amount: { currency_code: 'USD', value: '10.00' } },
  });
  expect(fake.state().paypal.refunds.map((r) => [r.captureId, r.value])).toEqual([
    [captureId, '10.00'],
    [captureId, '32.00'],
  ]);

  const again = await failureOf(sendProviderCall(ctxFor('refundCharge'), { chargeId: captureId }));
  expect(again).toMatchObject({ type: 'ProviderRejected', nonRetryable: true });
  expect(again.providerDetails).toMatchObject({ provider: 'paypal', operation: 'refundCharge', status: 422, code: 'CAPTURE_FULLY_REFUNDED' });
  const unknown = await failureOf(sendProviderCall(ctxFor('refundCharge'), { chargeId: 'NOSUCHCAPTURE0000' }));
  expect(unknown.providerDetails).toMatchObject({ status: 404, code: 'INVALID_RESOURCE_ID' });
  const noCurrency = await failureOf(sendProviderCall(ctxFor('refundCharge'), { chargeId: captureId, amount: 100 }));
  expect(noCurrency.providerDetails.code).toBe('missing_currency');
});

test('422 is not retried, 5xx and 429 are (Retry-After honoured), all with PayPal error codes', async () => {
  fake.addFault({ provider: 'paypal', operation: 'captureOrder', kind: 'status', status: 422, times: 1 });
  const declined = await failureOf(sendProviderCall(ctxFor('charge'), payment));
  expect(declined).toMatchObject({ type: 'ProviderRejected', nonRetryable: true });
  expect(declined.providerDetails).toMatchObject({ status: 422, code: 'INSTRUMENT_DECLINED' });
  expect(declined.message).toMatch(/debug_id/);

  fake.addFault({ provider: 'paypal', operation: 'createOrder', kind: 'status', status: 503, times: 1 });
  const down = await failureOf(sendProviderCall(ctxFor('charge'), payment));
  expect(down).toMatchObject({ type: 'ProviderUnavailable', nonRetryable: false });
  expect(down.providerDetails).toMatchObject({ status: 503, code: 'INTERNAL_SERVER_ERROR' });

  fake.addFault({ provider: 'paypal', operation: 'createOrder', kind: 'rate-limit', retryAfterSeconds: 4, times: 1 });
  const throttled = await failureOf(sendProviderCall(ctxFor('charge'), payment));
  expect(throttled).toMatchObject({ type: 'ProviderThrottled', nonRetryable: false, nextRetryDelay: 4000 });
  expect(throttled.providerDetails.code).toBe('RATE_LIMIT_REACHED');
  expect(fake.state().paypal.captures).toHaveLength(0);
});

test('missing or refused client credentials fail non-retryable, without echoing the secret', async () => {
  const missing = await failureOf(sendProviderCall(ctxFor('charge', { credentials: { clientId: 'someone', clientSecret: '' } }), payment));
  expect(missing).toMatchObject({ type: 'ProviderMisconfigured', nonRetryable: true });
  expect(missing.providerDetails.code).toBe('missing_credential');

  fake.addFault({ provider: 'paypal', operation: 'token', kind: 'status', status: 401, times: 1 });
  const refused = await failureOf(sendProviderCall(ctxFor('charge'), payment));
  expect(refused).toMatchObject({ type: 'ProviderRejected', nonRetryable: true });
  expect(refused.providerDetails).toMatchObject({ operation: 'charge', status: 401 });
  expect(`${refused.message}${JSON.stringify(refused.details)}`).not.toContain(credentials.clientSecret);
  expect(fake.requests({ provider: 'paypal', operation: 'createOrder' })).toHaveLength(0);
});
