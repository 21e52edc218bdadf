/**
 * PayPal adapter (REST Orders v2 and Payments v2) over the shared HTTP core, the failover backup of
 * Stripe for `charge`. No maintained official PayPal server SDK takes a base URL, and the core
 * already gives the SSRF guard, timeouts, metrics and error classification.
 *
 * - Auth: OAuth2 client credentials (`POST /v1/oauth2/token`, Basic client id:secret); the access
 *   token is cached per process until shortly before it expires, and fetched again once when an
 *   API call answers 401 (revoked or expired early).
 * - Idempotency: PayPal's own `PayPal-Request-Id` header, derived from the call's idempotency key
 *   with one suffix per request, so a retried attempt gets the same order and the same capture
 *   back instead of a second charge (the shared `Idempotency-Key` means nothing to PayPal).
 * - `charge` = create an order (intent CAPTURE) + capture it; the charge id is the capture id,
 *   which is what a refund names. `refundCharge` refunds a capture, fully or partly.
 * Amounts arrive in minor units and leave as PayPal's decimal strings (payment-params.ts).
 */
import { createHash } from 'node:crypto';
import { bearerTokens, withBearerToken, type IssuedToken } from '../core/bearer-tokens';
import { classifyRequestFailure, providerErrorTypes, providerSetupFailure } from '../core/classify';
import { answerField, providerRequest, requireCredential, type ProviderRequestOptions, type ProviderResponse } from '../core/http-core';
import {
  AmountConversionError,
  chargeParams,
  fromPayPalAmount,
  refundChargeParams,
  toPayPalAmount,
  type ChargeParams,
  type RefundChargeParams,
} from '../core/payment-params';
import type { OperationAdapter, ProviderAdapter, ProviderCallContext, ProviderResult } from '../core/adapter-types';

/** Per (base URL, client id, secret hash): several PayPal accounts may be configured. */
function tokenAccount(ctx: ProviderCallContext): string {
  const clientId = requireCredential(ctx, 'clientId');
  const secret = requireCredential(ctx, 'clientSecret');
  return `${ctx.provider.baseUrl}\n${clientId}\n${createHash('sha256').update(secret).digest('hex')}`;
}

async function issueToken(ctx: ProviderCallContext): Promise<IssuedToken> {
  const basic = Buffer.from(`${requireCredential(ctx, 'clientId')}:${requireCredential(ctx, 'clientSecret')}`).toString('base64');
  const response = await providerRequest({
    ctx,
    method: 'POST',
    path: '/v1/oauth2/token',
    headers: { authorization: `Basic ${basic}` },
    form: { grant_type: 'client_credentials' },
    failureIn: (answer) => (answerField(answer.body, 'access_token') ? null : { outcome: 'unavailable', code: null, message: 'token answer without access_token' }),
  });
  return { token: answerField(response.body, 'access_token')!, expiresInSeconds: Number(answerField(response.body, 'expires_in') ?? 0) };
}

const tokens = bearerTokens(tokenAccount, issueToken);

/** Forgets every cached token (tests). */
export function clearPayPalTokens(): void {
  tokens.clear();
}

/** One authenticated PayPal API request; a cached token PayPal refuses is replaced once. */
async function paypalRequest(
  ctx: ProviderCallContext,
  options: Omit<ProviderRequestOptions, 'ctx' | 'headers'> & { requestId: string },
): Promise<ProviderResponse> {
  const { requestId, ...rest } = options;
  const send = (token: string) =>
    providerRequest({
      ...rest,
      ctx,
      headers: { authorization: `Bearer ${token}`, 'paypal-request-id': requestId, prefer: 'return=representation' },
    });
  return withBearerToken(ctx, tokens, send);
}

/** PayPal-Request-Id of one request of this call: stable across retries, distinct per request. */
function requestIdFor(ctx: ProviderCallContext, step: string): string {
  return `${ctx.idempotencyKey}-${step}`;
}

function paypalAmount(ctx: ProviderCallContext, amount: number, currency: string) {
  try {
    return toPayPalAmount(amount, currency);
  } catch (error) {
    if (!(error instanceof AmountConversionError)) throw error;
    throw providerSetupFailure({
      provider: ctx.provider.name,
      operation: ctx.operation,
      type: providerErrorTypes.invalidRequest,
      code: 'amount_not_representable',
      message: error.message,
    });
  }
}

/** The first capture of an order answer (create with a vaulted source, or capture). */
function firstCapture(order: unknown): unknown {
  const captures: unknown = (order as { purchase_units?: Array<{ payments?: { captures?: unknown } }> } | null)?.purchase_units?.[0]?.payments
    ?.captures;
  return Array.isArray(captures) ? (captures[0] as unknown) : undefined;
}

/** A 2xx capture answer whose capture did not go through (declined, failed) or cannot be read. */
function captureFailure(response: ProviderResponse) {
  const capture = firstCapture(response.body);
  const status = answerField(capture, 'status');
  if (!capture || !answerField(capture, 'id')) return { outcome: 'unavailable' as const, code: null, message: 'capture answer without a capture' };
  if (status === 'DECLINED' || status === 'FAILED') {
    return { outcome: 'rejected' as const, code: `CAPTURE_${status}`, message: `PayPal capture status ${status}` };
  }
  return null;
}

export function orderRequestBody(params: ChargeParams, amount: { currency_code: string; value: string }): Record<string, unknown> {
  const booking = params.metadata?.booking;
  return {
    intent: 'CAPTURE',
    purchase_units: [
      {
        reference_id: 'default',
        amount,
        ...(params.description ? { description: params.description } : {}),
        // custom_id is PayPal's free reference (max 127 chars): the caller's booking id when it has one.
        ...(booking ? { custom_id: booking.slice(0, 127) } : {}),
      },
    ],
    ...(params.paypalVaultId ? { payment_source: { paypal: { vault_id: params.paypalVaultId } } } : {}),
  };
}

const charge: OperationAdapter<ChargeParams> = {
  params: chargeParams,
  async run(params, ctx): Promise<ProviderResult> {
    const amount = paypalAmount(ctx, params.amount, params.currency);
    const created = await paypalRequest(ctx, {
      method: 'POST',
      path: '/v2/checkout/orders',
      json: orderRequestBody(params, amount),
      requestId: requestIdFor(ctx, 'order'),
    });
    const orderId = answerField(created.body, 'id');
    if (!orderId) {
      throw classifyRequestFailure(ctx, { status: created.status, outcome: 'unavailable', code: null, message: 'order answer without an id' });
    }
    // A vaulted source with an immediate capture may come back completed already.
    const order =
      answerField(created.body, 'status') === 'COMPLETED' && firstCapture(created.body)
        ? created
        : await paypalRequest(ctx, {
            method: 'POST',
            path: `/v2/checkout/orders/${encodeURIComponent(orderId)}/capture`,
            json: {},
            requestId: requestIdFor(ctx, 'capture'),
            failureIn: captureFailure,
          });
    const capture = firstCapture(order.body);
    const captureId = answerField(capture, 'id')!;
    const value = answerField(capture, 'amount', 'value');
    return {
      data: {
        id: captureId,
        chargeId: captureId,
        orderId,
        status: answerField(capture, 'status'),
        amount: (value === null ? null : fromPayPalAmount(value, params.currency)) ?? params.amount,
        currency: params.currency,
      },
    };
  },
};

const refundCharge: OperationAdapter<RefundChargeParams> = {
  params: refundChargeParams,
  async run(params, ctx): Promise<ProviderResult> {
    if (params.amount !== undefined && params.currency === undefined) {
      throw providerSetupFailure({
        provider: ctx.provider.name,
        operation: ctx.operation,
        type: providerErrorTypes.invalidRequest,
        code: 'missing_currency',
        message: 'a partial PayPal refund needs the currency of its amount',
      });
    }
    const body = params.amount !== undefined && params.currency !== undefined ? { amount: paypalAmount(ctx, params.amount, params.currency) } : {};
    const { body: refund } = await paypalRequest(ctx, {
      method: 'POST',
      path: `/v2/payments/captures/${encodeURIComponent(params.chargeId)}/refund`,
      json: body,
      requestId: requestIdFor(ctx, 'refund'),
    });
    const currency = answerField(refund, 'amount', 'currency_code');
    const value = answerField(refund, 'amount', 'value');
    return {
      data: {
        id: answerField(refund, 'id'),
        status: answerField(refund, 'status'),
        chargeId: params.chargeId,
        amount: value !== null && currency !== null ? fromPayPalAmount(value, currency) : (params.amount ?? null),
      },
    };
  },
};

export const paypalAdapter: ProviderAdapter = { charge, refundCharge };
