/** Stripe-Signature verification against vectors made by the official `stripe` library. */
import Stripe from 'stripe';
import { verifyStripeSignature } from '../../providers/stripe/webhook';

const payload = JSON.stringify({ id: 'evt_1', type: 'payment_intent.succeeded' });
const body = Buffer.from(payload);
const now = () => Math.floor(Date.now() / 1000);
const sign = (secret: string, timestamp = now()) => Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });

test('accepts a signature made with the configured secret', () => {
  expect(verifyStripeSignature(body, sign('whsec_a'), ['whsec_a'], 300)).toEqual({ ok: true });
});

test('during a rotation, both live secrets verify', () => {
  expect(verifyStripeSignature(body, sign('whsec_old'), ['whsec_new', 'whsec_old'], 300)).toEqual({ ok: true });
  expect(verifyStripeSignature(body, sign('whsec_new'), ['whsec_new', 'whsec_old'], 300)).toEqual({ ok: true });
});

test('refuses another secret, a changed body, a missing header and a garbage header', () => {
  expect(verifyStripeSignature(body, sign('whsec_other'), ['whsec_a'], 300).ok).toBe(false);
  expect(verifyStripeSignature(Buffer.from(`${payload} `), sign('whsec_a'), ['whsec_a'], 300).ok).toBe(false);
  expect(verifyStripeSignature(body, undefined, ['whsec_a'], 300)).toEqual({ ok: false, reason: 'missing Stripe-Signature header' });
  expect(verifyStripeSignature(body, 'nonsense', ['whsec_a'], 300).ok).toBe(false);
});

test('refuses a timestamp outside the tolerance, in the past or the future', () => {
  const past = verifyStripeSignature(body, sign('whsec_a', now() - 301), ['whsec_a'], 300);
  expect(past.ok).toBe(false);
  expect(!past.ok && past.reason).toMatch(/tolerance/i);
  expect(verifyStripeSignature(body, sign('whsec_a', now() - 290), ['whsec_a'], 300).ok).toBe(true);
});

test('the reason never contains the secret', () => {
  const result = verifyStripeSignature(body, sign('whsec_other'), ['whsec_supersecret'], 300);
  expect(JSON.stringify(result)).not.toContain('whsec_supersecret');
});
