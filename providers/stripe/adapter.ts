/**
 * Stripe adapter over the official `stripe` package rather than the shared HTTP core: the SDK
 * owns Stripe's form encoding of nested params, API versioning and typed errors. It is held to the
 * same contract as the core: no SDK retries (Temporal retries), the registry's base URL and
 * timeout, the call's idempotency key on every POST, and the core's metrics and error
 * classification (`sdkProviderRequest`). Its HTTP goes through the provider's pool of the shared
 * core (a fetch function over it, as the SDK's `httpClient`), so the outbound guard, pool limits
 * and pool metrics apply to Stripe as to every other provider.
 */
import { createHash } from 'node:crypto';
import Stripe from 'stripe';
import { z } from 'zod';
import { strictOutboundPolicy, type OutboundPolicy } from '../../lib/security/outbound-policy';
import type { ProviderRequestFailure } from '../core/classify';
import { providerFetch } from '../core/http-pool';
import { cancellation, requireCredential, sdkProviderRequest } from '../core/http-core';
import { chargeParams, refundChargeParams, type ChargeParams, type RefundChargeParams } from '../core/payment-params';
import type { OperationAdapter, ProviderAdapter, ProviderCallContext, ProviderResult } from '../core/adapter-types';

const createPaymentIntentParams = z.object({
  amount: z.number().int().positive(),
  currency: z
    .string()
    .regex(/^[A-Za-z]{3}$/, 'a three-letter ISO currency code')
    .toLowerCase(),
  customer: z.string().min(1).optional(),
  description: z.string().optional(),
  paymentMethod: z.string().min(1).optional(),
  metadata: z.record(z.string(), z.string()).optional(),
});
export type CreatePaymentIntentParams = z.infer<typeof createPaymentIntentParams>;

const refundParams = z.object({
  paymentIntentId: z.string().min(1),
  amount: z.number().int().positive().optional(),
});
export type RefundParams = z.infer<typeof refundParams>;

const getPaymentIntentParams = z.object({ id: z.string().min(1) });
export type GetPaymentIntentParams = z.infer<typeof getPaymentIntentParams>;

// One client per (outbound policy, base URL, key). The SDK's requests go through the provider's
// pool of the shared core (http-pool.ts, as a fetch function): keep-alive connections, the
// registry's pool limits, pool metrics and the outbound (SSRF) guard on every connection. The key
// is hashed so the map holds no second copy of it.
const clients = new WeakMap<OutboundPolicy, Map<string, Stripe>>();

function clientFor(ctx: ProviderCallContext): Stripe {
  const apiKey = requireCredential(ctx, 'apiKey');
  const policy = ctx.outbound ?? strictOutboundPolicy;
  let byKey = clients.get(policy);
  if (!byKey) {
    byKey = new Map();
    clients.set(policy, byKey);
  }
  const cacheKey = `${ctx.provider.baseUrl}\n${createHash('sha256').update(apiKey).digest('hex')}`;
  let client = byKey.get(cacheKey);
  if (!client) {
    const url = new URL(ctx.provider.baseUrl);
    const protocol = url.protocol === 'http:' ? 'http' : 'https';
    client = new Stripe(apiKey, {
      host: url.hostname,
      port: url.port || (protocol === 'http' ? 80 : 443),
      protocol,
      maxNetworkRetries: 0,
      timeout: ctx.provider.timeoutMs,
      telemetry: false,
      appInfo: { name: 'switchyard' },
      httpClient: Stripe.createFetchHttpClient(providerFetch(ctx.provider, policy)),
    });
    byKey.set(cacheKey, client);
  }
  return client;
}

/** Runs one SDK call with the contract's options, through the core's metrics and error classification. */
function callStripe<T>(ctx: ProviderCallContext, method: 'GET' | 'POST', run: (client: Stripe, options: Stripe.RequestOptions) => Promise<T>): Promise<T> {
  const client = clientFor(ctx);
  const options: Stripe.RequestOptions = {
    timeout: ctx.provider.timeoutMs,
    maxNetworkRetries: 0,
    ...(method === 'POST' ? { idempotencyKey: ctx.idempotencyKey } : {}),
  };
  return sdkProviderRequest(ctx, () => untilCancelled(run(client, options), ctx.signal), (error) => stripeFailure(ctx, error));
}

/**
 * The SDK takes no abort signal, so a cancelled activity stops waiting and lets the request end
 * on its own timeout (the idempotency key makes a later retry safe either way).
 */
function untilCancelled<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(cancellation(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** What a failed SDK call tells: the answer (status, headers, Stripe's code and message) or the transport failure. */
function stripeFailure(ctx: ProviderCallContext, error: unknown): ProviderRequestFailure {
  if (!(error instanceof Stripe.errors.StripeError)) return { error };
  if (error.statusCode === undefined) {
    // No answer (StripeConnectionError) or an unreadable one: the transport failed.
    const detail = error.detail;
    const timedOut = typeof detail === 'object' && 'code' in detail && detail.code === 'ETIMEDOUT';
    return timedOut ? { error: detail, timedOutAfterMs: ctx.provider.timeoutMs } : { error: detail instanceof Error ? detail : error };
  }
  return {
    status: error.statusCode,
    headers: error.headers,
    code: error.code ?? error.decline_code ?? error.rawType ?? null,
    message: error.message,
  };
}

function paymentIntentData(intent: Stripe.PaymentIntent): ProviderResult {
  return { data: { id: intent.id, status: intent.status, amount: intent.amount, currency: intent.currency } };
}

const createPaymentIntent: OperationAdapter<CreatePaymentIntentParams> = {
  params: createPaymentIntentParams,
  async run(params, ctx) {
    const intent = await callStripe(ctx, 'POST', (client, options) =>
      client.paymentIntents.create(
        {
          amount: params.amount,
          currency: params.currency,
          customer: params.customer,
          description: params.description,
          metadata: params.metadata,
          // A payment method given means "charge now"; without one the intent waits for the customer.
          ...(params.paymentMethod ? { payment_method: params.paymentMethod, confirm: true } : {}),
        },
        options,
      ),
    );
    return paymentIntentData(intent);
  },
};

const refund: OperationAdapter<RefundParams> = {
  params: refundParams,
  async run(params, ctx) {
    const created = await callStripe(ctx, 'POST', (client, options) =>
      client.refunds.create({ payment_intent: params.paymentIntentId, amount: params.amount }, options),
    );
    const paymentIntent = created.payment_intent;
    return {
      data: {
        id: created.id,
        status: created.status,
        paymentIntentId: typeof paymentIntent === 'string' ? paymentIntent : (paymentIntent?.id ?? params.paymentIntentId),
        amount: created.amount,
      },
    };
  },
};

const getPaymentIntent: OperationAdapter<GetPaymentIntentParams> = {
  params: getPaymentIntentParams,
  async run(params, ctx) {
    const intent = await callStripe(ctx, 'GET', (client, options) => client.paymentIntents.retrieve(params.id, {}, options));
    return paymentIntentData(intent);
  },
};

/** The provider-neutral payment step (payment-params.ts): a payment intent whose id is the charge id. */
const charge: OperationAdapter<ChargeParams> = {
  params: chargeParams,
  async run(params, ctx) {
    const { paypalVaultId: _notStripe, ...intentParams } = params;
    const { data } = await createPaymentIntent.run(intentParams, ctx);
    return { data: { ...data, chargeId: data.id, paymentIntentId: data.id } };
  },
};

/** Refunds a `charge` (its payment intent), fully or partly. */
const refundCharge: OperationAdapter<RefundChargeParams> = {
  params: refundChargeParams,
  async run(params, ctx) {
    const { data } = await refund.run({ paymentIntentId: params.chargeId, amount: params.amount }, ctx);
    return { data: { ...data, chargeId: params.chargeId } };
  },
};

export const stripeAdapter: ProviderAdapter = { createPaymentIntent, refund, getPaymentIntent, charge, refundCharge };
