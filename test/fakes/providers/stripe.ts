/**
 * Fake Stripe: payment intents and refunds with Stripe's form-encoded requests, its error objects
 * (invalid_request_error, card_error) and its magic test payment method for a decline, so the
 * Stripe adapter (or stripe-node pointed here) runs unchanged.
 */
import { isRecord, stringField, bearerToken } from '../http-io';
import { randomString } from '../random-ids';
import type { PaymentIntent, Refund } from '../state';
import type { FakeResponse, ParsedRequest } from '../types';
import { json, type ProviderModule } from './provider-module';

/** Stripe's test payment method that always declines. */
const DECLINED_PAYMENT_METHOD = 'pm_card_chargeDeclined';
const MINIMUM_AMOUNT = 50;

function invalidRequest(status: number, code: string, message: string, param?: string): FakeResponse {
  return json(status, { error: { type: 'invalid_request_error', code, param, message } });
}

function missingParam(param: string): FakeResponse {
  return invalidRequest(400, 'parameter_missing', `Missing required param: ${param}.`, param);
}

/** Undefined when the key is acceptable; the 401 otherwise. The key itself is never echoed. */
function rejectBadKey(req: ParsedRequest): FakeResponse | undefined {
  const key = bearerToken(req);
  if (key !== undefined && key.startsWith('sk_') && key.length > 'sk_'.length) return undefined;
  return json(401, {
    error: { type: 'invalid_request_error', message: 'Invalid API Key provided: sk_****' },
  });
}

/** An integer param: its value, undefined when absent, or the 400 Stripe gives for a non-integer. */
function integerParam(body: unknown, name: string): number | undefined | FakeResponse {
  const raw = stringField(body, name);
  if (raw === undefined || raw === '') return undefined;
  if (!/^-?\d+$/.test(raw)) return invalidRequest(400, 'parameter_invalid_integer', `Invalid integer: ${raw}`, name);
  return Number(raw);
}

/** stripe-node sends `metadata[key]=value`; JSON callers may send a `metadata` object instead. */
function metadataFrom(body: unknown): Record<string, string> {
  const metadata: Record<string, string> = {};
  if (!isRecord(body)) return metadata;
  for (const [key, value] of Object.entries(body)) {
    const match = /^metadata\[(.+)\]$/.exec(key);
    if (match?.[1] && typeof value === 'string') metadata[match[1]] = value;
  }
  if (isRecord(body.metadata)) {
    for (const [key, value] of Object.entries(body.metadata)) metadata[key] = String(value);
  }
  return metadata;
}

function noSuchPaymentIntent(status: number, id: string, param: string): FakeResponse {
  return invalidRequest(status, 'resource_missing', `No such payment_intent: '${id}'`, param);
}

export const stripe: ProviderModule = {
  id: 'stripe',
  routes: [
    {
      // Stripe's balance: the cheapest authenticated read, used as the health probe. Faults on operation 'probe' (or on the whole provider) make it fail.
      method: 'GET',
      path: /^\/v1\/balance$/,
      operation: 'probe',
      handle() {
        return json(200, { object: 'balance', available: [{ amount: 0, currency: 'usd' }], livemode: false });
      },
    },
    {
      method: 'POST',
      path: /^\/v1\/payment_intents$/,
      operation: 'createPaymentIntent',
      handle(req, _params, state) {
        const badKey = rejectBadKey(req);
        if (badKey) return badKey;
        const amount = integerParam(req.body, 'amount');
        if (amount === undefined) return missingParam('amount');
        if (typeof amount !== 'number') return amount;
        const currency = stringField(req.body, 'currency');
        if (!currency) return missingParam('currency');
        if (amount < MINIMUM_AMOUNT) {
          return invalidRequest(400, 'amount_too_small', `Amount must be at least $0.50 ${currency}`, 'amount');
        }
        if (stringField(req.body, 'payment_method') === DECLINED_PAYMENT_METHOD) {
          return json(402, {
            error: { type: 'card_error', code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' },
          });
        }
        const intent: PaymentIntent = {
          id: `pi_${randomString(24)}`,
          object: 'payment_intent',
          amount,
          amount_received: amount,
          currency: currency.toLowerCase(),
          status: 'succeeded',
          customer: stringField(req.body, 'customer') ?? null,
          description: stringField(req.body, 'description') ?? null,
          metadata: metadataFrom(req.body),
          created: Math.floor(Date.now() / 1000),
        };
        state.paymentIntents.set(intent.id, intent);
        return json(200, intent);
      },
    },
    {
      method: 'POST',
      path: /^\/v1\/refunds$/,
      operation: 'refund',
      handle(req, _params, state) {
        const badKey = rejectBadKey(req);
        if (badKey) return badKey;
        const intentId = stringField(req.body, 'payment_intent');
        if (!intentId) return missingParam('payment_intent');
        const intent = state.paymentIntents.get(intentId);
        if (!intent) return noSuchPaymentIntent(400, intentId, 'payment_intent');
        const requested = integerParam(req.body, 'amount');
        if (requested !== undefined && typeof requested !== 'number') return requested;
        const remaining = intent.amount - state.refundedAmount(intent.id);
        if (remaining <= 0) {
          return invalidRequest(400, 'charge_already_refunded', `Charge for payment intent ${intent.id} has already been refunded.`);
        }
        const amount = requested ?? remaining;
        if (amount <= 0 || amount > remaining) {
          return invalidRequest(400, 'amount_too_large', `Refund amount (${amount}) is greater than unrefunded amount (${remaining}).`, 'amount');
        }
        const refund: Refund = { id: `re_${randomString(24)}`, object: 'refund', amount, payment_intent: intent.id, status: 'succeeded' };
        state.refunds.set(refund.id, refund);
        return json(200, refund);
      },
    },
    {
      method: 'GET',
      path: /^\/v1\/payment_intents\/(?<id>[^/]+)$/,
      operation: 'getPaymentIntent',
      handle(req, params, state) {
        const badKey = rejectBadKey(req);
        if (badKey) return badKey;
        const id = params.id ?? '';
        const intent = state.paymentIntents.get(id);
        return intent ? json(200, intent) : noSuchPaymentIntent(404, id, 'intent');
      },
    },
  ],
  faultBodies: {
    status: (status) => ({
      error: {
        type: status >= 500 ? 'api_error' : 'invalid_request_error',
        message: `The fake Stripe answered ${status} (injected fault).`,
      },
    }),
    rateLimit: () => ({
      error: { type: 'rate_limit_error', code: 'rate_limit', message: 'Too many requests hit the API too quickly.' },
    }),
    validation: (_req, operation) => {
      const param = operation === 'refund' ? 'payment_intent' : 'amount';
      return { error: { type: 'invalid_request_error', code: 'parameter_missing', param, message: `Missing required param: ${param}.` } };
    },
  },
};
