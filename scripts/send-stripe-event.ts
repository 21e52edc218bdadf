/**
 * Sends a signed Stripe test event to the running API, the way Stripe would (Stripe-Signature made
 * by the official library with the first secret in STRIPE_WEBHOOK_SECRETS).
 *   npm run send-stripe-event -- [event type, default payment_intent.succeeded] [event id]
 */
import { randomUUID } from 'node:crypto';
import Stripe from 'stripe';
import { loadConfig } from '../lib/config';

async function main(): Promise<void> {
  const config = loadConfig();
  const secret = (process.env.STRIPE_WEBHOOK_SECRETS ?? '').split(',')[0]?.trim();
  if (!secret) throw new Error('set STRIPE_WEBHOOK_SECRETS to the secret the API was started with');
  const [type = 'payment_intent.succeeded', id = `evt_${randomUUID().replace(/-/g, '')}`] = process.argv.slice(2);
  const payload = JSON.stringify({
    id,
    object: 'event',
    type,
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    data: {
      object: { id: `pi_${id.slice(4, 28)}`, object: 'payment_intent', amount: 2000, amount_received: 2000, currency: 'usd', status: 'succeeded' },
    },
  });
  const res = await fetch(`http://127.0.0.1:${config.PORT}/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret }) },
    body: payload,
  });
  console.log(res.status, await res.text());
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
