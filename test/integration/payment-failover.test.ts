/**
 * Payment failover in the booking saga, on the real Temporal dev server and PostgreSQL, against the
 * fake providers: Stripe healthy → Stripe charges; Stripe's circuit open → the next booking charges
 * through its declared backup PayPal (one capture even when the first capture answer is lost);
 * a later step failing → the refund goes to the provider that charged.
 *
 * The payment providers are per-run clones of `stripe` and `paypal` (the booking names its payment
 * provider), so opening this test's Stripe circuit in the shared database disturbs nobody else.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import type { Config } from '../../lib/config/config';
import type { ProviderConfig } from '../../lib/config/registry';
import type { BookingResult } from '../../workflows/booking';
import { bookingStatusQuery, bookingWorkflowId, type BookingRequest, type BookingStatus } from '../../contracts/call';
import type { FakeProviders } from '../fakes/provider-server';
import { failoverMetricsRegistry } from '../../activities/call-provider';
import { sampleBooking, startStack, type RunningApi, type TestStack } from '../support/harness';

const run = randomUUID().slice(0, 8);
const stripeName = `stripe-${run}`;
const paypalName = `paypal-${run}`;

let stack: TestStack;
let pool: Pool;
let fakes: FakeProviders;
let config: Config;
/** Its workflow client carries the harness's data converter. */
let api: RunningApi;

beforeAll(async () => {
  ({ pool, fakes, config, api } = stack = await startStack({
    registry: (r) => {
      const clone = (base: ProviderConfig, name: string, change: Partial<ProviderConfig> = {}): void => {
        r[name] = { ...structuredClone(base), name, ...change };
      };
      clone(r.paypal!, paypalName, { timeoutMs: 2000 });
      clone(r.stripe!, stripeName, {
        circuit: { ...r.stripe!.circuit, failureThreshold: 2, coolDownSeconds: 300 },
        failover: { strategy: 'primary-secondary', backups: [paypalName] },
      });
    },
  }));
});

afterAll(() => stack?.close());

beforeEach(() => fakes.clearFaults());

const booking: Omit<BookingRequest, 'tenant'> = { ...sampleBooking, paymentProvider: stripeName };

async function book(change: Partial<BookingRequest> = {}): Promise<{ outcome: BookingResult | ApplicationFailure; status: BookingStatus }> {
  const workflowId = bookingWorkflowId(config.DEFAULT_TENANT, randomUUID());
  const handle = await api.workflows.start('bookingSaga', {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowId,
    args: [{ tenant: config.DEFAULT_TENANT, ...booking, ...change }],
  });
  let outcome: BookingResult | ApplicationFailure;
  try {
    outcome = (await handle.result()) as BookingResult;
  } catch (err) {
    if (!(err instanceof WorkflowFailedError) || !(err.cause instanceof ApplicationFailure)) throw err;
    outcome = err.cause;
  }
  return { outcome, status: await handle.query(bookingStatusQuery) };
}

const stripeCharges = () => fakes.requests({ provider: 'stripe', operation: 'createPaymentIntent' });

test('(a) Stripe healthy: the booking charges through Stripe, PayPal untouched', async () => {
  const { outcome, status } = await book();
  expect(outcome).toMatchObject({ chargedBy: stripeName, chargeId: expect.stringMatching(/^pi_/) as unknown, smsSentBy: 'twilio' });
  const result = outcome as BookingResult;
  expect(result.paymentIntentId).toBe(result.chargeId);
  expect(status).toMatchObject({ status: 'completed', chargedBy: stripeName, chargeId: result.chargeId, paymentIntentId: result.chargeId });
  expect(fakes.requests({ provider: 'paypal' })).toHaveLength(0);
  expect(stripeCharges().at(-1)!.body).toMatchObject({ amount: '4200', currency: 'usd' });
});

/** failover_events_total{provider} of the in-process worker. */
async function failoversTo(provider: string): Promise<number> {
  const metric = await failoverMetricsRegistry.getSingleMetric('failover_events_total')!.get();
  return metric.values.find((v) => v.labels.provider === provider)?.value ?? 0;
}

test('(b) Stripe failing opens its circuit and fails over; the next booking skips Stripe and captures exactly once at PayPal, although the first capture answer is lost', async () => {
  const failoversBefore = await failoversTo(paypalName);
  fakes.addFault({ provider: 'stripe', operation: 'createPaymentIntent', kind: 'status', status: 503 });
  const first = await book();
  expect(first.outcome).toMatchObject({ chargedBy: paypalName, paymentIntentId: null });
  const circuit = await pool.query<{ state: string }>('SELECT state FROM circuit_breakers WHERE provider = $1', [stripeName]);
  expect(circuit.rows[0]?.state).toBe('open');

  fakes.clearFaults();
  const stripeBefore = stripeCharges().length;
  const capturesBefore = fakes.state().paypal.captures.length;
  const captureRequestsBefore = fakes.requests({ provider: 'paypal', operation: 'captureOrder' }).length;
  fakes.addFault({ provider: 'paypal', operation: 'captureOrder', kind: 'timeout', times: 1 });

  // With the payer's saved wallet, as a real PayPal capture of an unapproved order needs.
  const second = await book({ paypalVaultId: 'vault-test-1' });
  expect(second.outcome).toMatchObject({ chargedBy: paypalName, paymentIntentId: null });
  const order = fakes.requests({ provider: 'paypal', operation: 'createOrder' }).at(-1)!;
  expect(order.body).toMatchObject({ payment_source: { paypal: { vault_id: 'vault-test-1' } } });
  const result = second.outcome as BookingResult;
  expect(second.status).toMatchObject({ status: 'completed', chargedBy: paypalName, chargeId: result.chargeId });
  expect(stripeCharges()).toHaveLength(stripeBefore); // open circuit: Stripe not even asked

  const captures = fakes.state().paypal.captures.slice(capturesBefore);
  expect(captures).toEqual([{ id: result.chargeId, orderId: expect.any(String) as unknown, currency_code: 'USD', value: '42.00' }]);
  const captureRequests = fakes.requests({ provider: 'paypal', operation: 'captureOrder' }).slice(captureRequestsBefore);
  expect(captureRequests.map((r) => [r.fault, r.replayed])).toEqual([
    ['timeout', false],
    [null, true],
  ]);
  expect(new Set(captureRequests.map((r) => r.idempotencyKey)).size).toBe(1);
  // Both bookings moved on to the backup: failover_events_total{provider=<paypal>} counted each once.
  expect(await failoversTo(paypalName)).toBe(failoversBefore + 2);
}, 90_000);

test('(c) a later critical step failing refunds the charge on the provider that charged: PayPal refund of the capture, no Stripe refund', async () => {
  fakes.addFault({ provider: 'google-calendar', operation: 'insertEvent', kind: 'validation' });
  const stripeRefundsBefore = fakes.state().refunds;
  const paypalRefundsBefore = fakes.state().paypal.refunds.length;

  const { outcome, status } = await book();
  expect(outcome).toBeInstanceOf(ApplicationFailure);
  const failure = outcome as ApplicationFailure;
  expect(failure.type).toBe('BookingFailed');
  expect(status).toMatchObject({ status: 'failed', failedStep: 'calendar', chargedBy: paypalName });
  const chargeId = status.chargeId!;
  expect(failure.message).toContain(`refund payment ${chargeId} on ${paypalName}`);
  expect(status.undone.map((u) => [u.step, u.ok])).toEqual([['charge', true]]);

  expect(fakes.state().paypal.refunds.slice(paypalRefundsBefore)).toEqual([
    { id: expect.any(String) as unknown, captureId: chargeId, currency_code: 'USD', value: '42.00' },
  ]);
  expect(fakes.state().refunds).toBe(stripeRefundsBefore);
  expect(fakes.requests({ provider: 'stripe', operation: 'refund' })).toHaveLength(0);
}, 90_000);
