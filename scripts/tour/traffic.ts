/**
 * The screenshot tour's traffic, through the public API only (the typed client and signed webhook
 * requests, as a provider sends them), so the console, the Temporal Web UI and the metrics have
 * something real to show: Stripe webhooks (new ones, duplicates, one whose payload the handler
 * refuses, some with a bad signature), provider calls (one refused by the fake provider, some
 * retried after a 503, geocoding answered from the cache), batch items, two subscribers (one answering 200, one 503 until its
 * deliveries are dead-lettered) and a provider whose health probe fails, which raises an alert.
 */
import { randomUUID } from 'node:crypto';
import Stripe from 'stripe';
import { SwitchyardClient } from '../../client/index';

export interface TrafficTarget {
  apiUrl: string;
  apiKey: string;
  /** The API's Stripe signing secret; without it no webhook is sent. */
  stripeSecret?: string;
  /** The fake providers' base URL (control API under /__fake/); without it no fault is injected. */
  fakesUrl?: string;
  /** Subscriber endpoints: one that answers 200, one that answers 503. */
  subscriberUrls?: { ok: string; failing: string };
  durationMs: number;
  say: (line: string) => void;
}

export interface TrafficResult {
  /** A processed payment_intent.succeeded webhook: its workflow, run and payment intent id. */
  webhook?: { workflowId: string; runId: string; paymentIntent: string };
  /** A provider call's workflow id: one that completed after retries, else any that completed. */
  callWorkflowId?: string;
}

const compactId = () => randomUUID().replace(/-/g, '');

function paymentEvent(eventId = `evt_${compactId()}`, amount: number | undefined = 1000 + Math.floor(Math.random() * 9000)): { id: string; body: string; paymentIntent: string } {
  const paymentIntent = `pi_${compactId().slice(0, 24)}`;
  const body = JSON.stringify({
    id: eventId,
    object: 'event',
    type: 'payment_intent.succeeded',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    data: { object: { id: paymentIntent, object: 'payment_intent', amount, amount_received: amount, currency: 'usd', status: 'succeeded', customer: 'cus_tour' } },
  });
  return { id: eventId, body, paymentIntent };
}

function customerEvent(): string {
  return JSON.stringify({ id: `evt_${compactId()}`, object: 'event', type: 'customer.created', created: Math.floor(Date.now() / 1000), livemode: false, data: { object: { id: `cus_${compactId().slice(0, 14)}`, object: 'customer' } } });
}

export async function produceTraffic(target: TrafficTarget): Promise<TrafficResult> {
  const { say } = target;
  const client = new SwitchyardClient({ baseUrl: target.apiUrl, apiKey: target.apiKey });
  const result: TrafficResult = {};
  const counts = { webhooks: 0, duplicates: 0, refused: 0, calls: 0, failedCalls: 0, batchItems: 0 };

  const addFault = async (rule: Record<string, unknown>) => {
    if (!target.fakesUrl) return;
    const res = await fetch(`${target.fakesUrl}/__fake/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rule) });
    if (!res.ok) say(`fault ${JSON.stringify(rule)} refused: ${res.status} ${await res.text()}`);
  };
  const postStripe = async (body: string, secret = target.stripeSecret): Promise<{ status: number; answer: Record<string, unknown> }> => {
    const signature = Stripe.webhooks.generateTestHeaderString({ payload: body, secret: secret! });
    const res = await fetch(`${target.apiUrl}/webhooks/stripe`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body });
    const answer = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (res.status === 202) counts.webhooks++;
    else if (res.status === 200) counts.duplicates++;
    else counts.refused++;
    return { status: res.status, answer };
  };
  let retriedCall: string | undefined;
  const call = async (provider: string, operation: string, params: Record<string, unknown>, retried = false) => {
    try {
      const answer = await client.call(provider, operation, params, { idempotencyKey: `tour-${compactId().slice(0, 12)}`, wait: 8000 });
      counts.calls++;
      if (answer.status === 'completed') {
        result.callWorkflowId ??= answer.workflowId;
        if (retried) retriedCall ??= answer.workflowId;
      }
      if (answer.status === 'failed') counts.failedCalls++;
    } catch (err) {
      counts.failedCalls++;
      say(`${provider} ${operation}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  if (target.subscriberUrls) {
    await client.createSubscriber({ url: target.subscriberUrls.ok, providers: ['stripe'], eventTypes: ['payment_intent.*'] });
    await client.createSubscriber({ url: target.subscriberUrls.failing, providers: ['stripe'], eventTypes: ['customer.*'] });
  }
  // Twilio's health probe fails from now on: the provider turns down and an alert is raised.
  await addFault({ provider: 'twilio', operation: 'probe', kind: 'status', status: 503 });

  const started = Date.now();
  let previous: string | undefined;
  for (let wave = 0; Date.now() - started < target.durationMs; wave++) {
    const waveStarted = Date.now();
    if (target.stripeSecret) {
      for (let i = 0; i < 2; i++) {
        const event = paymentEvent();
        const { status, answer } = await postStripe(event.body);
        if (status === 202 && !result.webhook && typeof answer.workflowId === 'string' && typeof answer.runId === 'string') {
          result.webhook = { workflowId: answer.workflowId, runId: answer.runId, paymentIntent: event.paymentIntent };
        }
        if (i === 0 && previous) await postStripe(previous); // the provider redelivers: a duplicate
        previous = event.body;
      }
      await postStripe(customerEvent());
      if (wave % 3 === 2) await postStripe(paymentEvent().body, 'whsec_not_the_secret'); // refused: bad signature
    }
    await call('stripe', 'createPaymentIntent', { amount: 1500 + wave * 100, currency: 'usd' });
    const retried = wave % 4 === 3;
    if (retried) await addFault({ provider: 'openai', operation: 'createChatCompletion', kind: 'status', status: 503, times: 2 });
    await call('openai', 'createChatCompletion', { messages: [{ role: 'user', content: `tour wave ${wave}` }] }, retried);
    await call('twilio', 'sendSms', { to: '+14155550101', body: `tour wave ${wave}` });
    // The same address again and again: answered from the cache after the first call.
    await call('google-maps', 'geocode', { address: wave % 2 === 0 ? '1600 Amphitheatre Parkway, Mountain View, CA' : `${wave} Main Street, Springfield` });
    for (let i = 0; i < 3; i++) {
      await client.enqueue('sendgrid', 'sendMail', { to: `ops${i}@example.com`, subject: 'Switchyard tour', text: `wave ${wave}` }).then(
        () => counts.batchItems++,
        (err: unknown) => say(`enqueue: ${err instanceof Error ? err.message : String(err)}`),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 8000 - (Date.now() - waveStarted))));
  }
  // Last, so they head the newest-first lists: a payload the handler refuses (the event fails) and
  // a call the provider refuses (400: not retried).
  if (target.stripeSecret) await postStripe(paymentEvent(undefined, -5).body);
  await addFault({ provider: 'stripe', operation: 'createPaymentIntent', kind: 'status', status: 400, times: 1 });
  await call('stripe', 'createPaymentIntent', { amount: 990, currency: 'usd' });
  result.callWorkflowId = retriedCall ?? result.callWorkflowId;
  say(`traffic: ${JSON.stringify(counts)}`);
  return result;
}
