/**
 * Fake PayPal REST API: the OAuth2 client-credentials token, Orders v2 create and capture, and
 * Payments v2 refund of a capture, with PayPal's error shape `{name, message, debug_id, details}`.
 * Its idempotency header is `PayPal-Request-Id` (declared below; the server replays the first
 * answer for a repeated id), so a retried create or capture gets the same order or capture back.
 * Simplification: an order needs no buyer approval before its capture (as with a vaulted source).
 */
import { STATUS_CODES } from 'node:http';
import { basicCredentials, bearerToken, isRecord, stringField } from '../http-io';
import { randomHex, randomString } from '../random-ids';
import type { PayPalAmount, PayPalOrder, PayPalRefund, ProviderState } from '../state';
import type { FakeResponse, ParsedRequest } from '../types';
import { json, type ProviderModule } from './provider-module';

const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const TOKEN_LIFETIME_SECONDS = 32_400;
/** Currencies PayPal takes without decimals. */
const NO_DECIMALS = new Set(['HUF', 'JPY', 'TWD']);

interface Issue {
  field?: string;
  issue: string;
  description: string;
}

function paypalError(status: number, name: string, message: string, details: Issue[] = []): FakeResponse {
  return json(status, { name, message, debug_id: randomHex(7), details });
}

const invalidRequest = (details: Issue[]): FakeResponse =>
  paypalError(400, 'INVALID_REQUEST', 'Request is not well-formed, syntactically incorrect, or violates schema.', details);
const unprocessable = (issue: string, description: string): FakeResponse =>
  paypalError(422, 'UNPROCESSABLE_ENTITY', 'The requested action could not be performed, semantically incorrect, or failed business validation.', [
    { issue, description },
  ]);
const notFound = (): FakeResponse =>
  paypalError(404, 'RESOURCE_NOT_FOUND', 'The specified resource does not exist.', [
    { issue: 'INVALID_RESOURCE_ID', description: 'Specified resource ID does not exist. Please check the resource ID and try again.' },
  ]);

/** Undefined when the bearer token is one this fake issued and still valid; the 401 otherwise. */
function rejectBadToken(req: ParsedRequest, state: ProviderState): FakeResponse | undefined {
  const token = bearerToken(req);
  const expires = token === undefined ? undefined : state.paypalTokens.get(token);
  if (expires !== undefined && expires > Date.now()) return undefined;
  return paypalError(401, 'AUTHENTICATION_FAILURE', 'Authentication failed due to invalid authentication credentials or a missing Authorization header.');
}

/** The amount as PayPal validates it, or the error answer. */
function amountFrom(value: unknown, field: string): PayPalAmount | FakeResponse {
  if (!isRecord(value)) return invalidRequest([{ field, issue: 'MISSING_REQUIRED_PARAMETER', description: 'A required field / parameter is missing.' }]);
  const currency = stringField(value, 'currency_code');
  const amount = typeof value.value === 'string' ? value.value : undefined;
  if (!currency || !/^[A-Z]{3}$/.test(currency)) {
    return invalidRequest([{ field: `${field}/currency_code`, issue: 'INVALID_PARAMETER_VALUE', description: 'The value of a field is invalid.' }]);
  }
  if (!amount || !/^\d{1,10}(\.\d{1,3})?$/.test(amount)) {
    return invalidRequest([{ field: `${field}/value`, issue: 'INVALID_PARAMETER_SYNTAX', description: 'The value of a field does not conform to the expected format.' }]);
  }
  if (NO_DECIMALS.has(currency) && amount.includes('.')) {
    return unprocessable('DECIMAL_PRECISION', 'If the currency supports decimals, only two decimal place precision is supported.');
  }
  if (Number(amount) <= 0) return unprocessable('AMOUNT_MUST_BE_POSITIVE', 'The amount must be a positive number.');
  return { currency_code: currency, value: amount };
}

/** Minor units of a decimal value (for refund arithmetic); three decimals cover every currency. */
function thousandths(value: string): number {
  const [whole = '0', fraction = ''] = value.split('.');
  return Number(whole) * 1000 + Number(fraction.padEnd(3, '0'));
}

function formatLike(total: number, like: string): string {
  const decimals = like.includes('.') ? like.split('.')[1]!.length : 0;
  return (total / 1000).toFixed(decimals);
}

function orderView(order: PayPalOrder): Record<string, unknown> {
  const { capture, ...rest } = order;
  return {
    ...rest,
    purchase_units: order.purchase_units.map((unit, index) =>
      index === 0 && capture ? { ...unit, payments: { captures: [capture] } } : unit,
    ),
    links: [{ href: `/v2/checkout/orders/${order.id}`, rel: 'self', method: 'GET' }],
  };
}

export const paypal: ProviderModule = {
  id: 'paypal',
  idempotencyHeader: 'paypal-request-id',
  routes: [
    {
      // Webhook event types: a cheap read, used as the health probe (no credentials needed here).
      method: 'GET',
      path: /^\/v1\/notifications\/webhooks-event-types$/,
      operation: 'probe',
      handle() {
        return json(200, { event_types: [{ name: 'PAYMENT.CAPTURE.COMPLETED', status: 'ENABLED' }] });
      },
    },
    {
      method: 'POST',
      path: /^\/v1\/oauth2\/token$/,
      operation: 'token',
      handle(req, _params, state) {
        const client = basicCredentials(req);
        if (!client?.user || !client.password) {
          return json(401, { error: 'invalid_client', error_description: 'Client Authentication failed' });
        }
        if (stringField(req.body, 'grant_type') !== 'client_credentials') {
          return json(400, { error: 'unsupported_grant_type', error_description: 'Grant Type is NULL or not supported' });
        }
        const token = `A21AA${randomString(40)}`;
        state.paypalTokens.set(token, Date.now() + TOKEN_LIFETIME_SECONDS * 1000);
        return json(200, {
          scope: 'https://uri.paypal.com/services/payments/payment',
          access_token: token,
          token_type: 'Bearer',
          app_id: 'APP-80W284485P519543T',
          expires_in: TOKEN_LIFETIME_SECONDS,
          nonce: `${new Date().toISOString()}${randomString(12)}`,
        });
      },
    },
    {
      method: 'POST',
      path: /^\/v2\/checkout\/orders$/,
      operation: 'createOrder',
      handle(req, _params, state) {
        const unauthorized = rejectBadToken(req, state);
        if (unauthorized) return unauthorized;
        const body = isRecord(req.body) ? req.body : {};
        if (body.intent !== 'CAPTURE') {
          return invalidRequest([{ field: '/intent', issue: 'INVALID_PARAMETER_VALUE', description: 'intent must be CAPTURE (AUTHORIZE is not faked).' }]);
        }
        const units = Array.isArray(body.purchase_units) ? (body.purchase_units as unknown[]) : [];
        const first: unknown = units[0];
        if (units.length !== 1 || !isRecord(first)) {
          return invalidRequest([{ field: '/purchase_units', issue: 'MISSING_REQUIRED_PARAMETER', description: 'Exactly one purchase unit is faked.' }]);
        }
        const amount = amountFrom(first.amount, '/purchase_units/@reference_id==\'default\'/amount');
        if ('status' in amount) return amount;
        const now = new Date().toISOString();
        const order: PayPalOrder = {
          id: randomString(17, UPPER_ALNUM),
          intent: 'CAPTURE',
          status: body.payment_source === undefined ? 'CREATED' : 'APPROVED',
          purchase_units: [{ ...first, reference_id: stringField(first, 'reference_id') ?? 'default', amount }],
          ...(body.payment_source === undefined ? {} : { payment_source: body.payment_source }),
          create_time: now,
        };
        state.paypalOrders.set(order.id, order);
        return json(201, orderView(order));
      },
    },
    {
      method: 'POST',
      path: /^\/v2\/checkout\/orders\/(?<id>[^/]+)\/capture$/,
      operation: 'captureOrder',
      handle(req, params, state) {
        const unauthorized = rejectBadToken(req, state);
        if (unauthorized) return unauthorized;
        const order = state.paypalOrders.get(params.id ?? '');
        if (!order) return notFound();
        if (order.capture) return unprocessable('ORDER_ALREADY_CAPTURED', 'Order already captured. If intent is CAPTURE only one capture per order is allowed.');
        const now = new Date().toISOString();
        order.capture = {
          id: randomString(17, UPPER_ALNUM),
          status: 'COMPLETED',
          amount: order.purchase_units[0]!.amount,
          final_capture: true,
          create_time: now,
          update_time: now,
        };
        order.status = 'COMPLETED';
        state.paypalCaptures.set(order.capture.id, order.id);
        return json(201, orderView(order));
      },
    },
    {
      method: 'POST',
      path: /^\/v2\/payments\/captures\/(?<id>[^/]+)\/refund$/,
      operation: 'refundCapture',
      handle(req, params, state) {
        const unauthorized = rejectBadToken(req, state);
        if (unauthorized) return unauthorized;
        const captureId = params.id ?? '';
        const capture = state.paypalOrders.get(state.paypalCaptures.get(captureId) ?? '')?.capture;
        if (!capture) return notFound();
        const refunded = state.paypalRefunds.filter((r) => r.captureId === captureId).reduce((sum, r) => sum + thousandths(r.amount.value), 0);
        const remaining = thousandths(capture.amount.value) - refunded;
        if (remaining <= 0) return unprocessable('CAPTURE_FULLY_REFUNDED', 'The capture has already been fully refunded.');
        let amount: PayPalAmount = { currency_code: capture.amount.currency_code, value: formatLike(remaining, capture.amount.value) };
        if (isRecord(req.body) && req.body.amount !== undefined) {
          const requested = amountFrom(req.body.amount, '/amount');
          if ('status' in requested) return requested;
          if (requested.currency_code !== capture.amount.currency_code) {
            return unprocessable('REFUND_CURRENCY_MISMATCH', 'Refund must be in the same currency as the capture.');
          }
          if (thousandths(requested.value) > remaining) {
            return unprocessable('REFUND_AMOUNT_EXCEEDED', 'The refund amount must be less than or equal to the capture amount that has not yet been refunded.');
          }
          amount = requested;
        }
        const refund: PayPalRefund = { id: randomString(17, UPPER_ALNUM), status: 'COMPLETED', amount, captureId, create_time: new Date().toISOString() };
        state.paypalRefunds.push(refund);
        const { captureId: _captureId, ...view } = refund;
        return json(201, { ...view, links: [{ href: `/v2/payments/refunds/${refund.id}`, rel: 'self', method: 'GET' }] });
      },
    },
  ],
  faultBodies: {
    status: (status) => {
      if (status === 422) return { name: 'UNPROCESSABLE_ENTITY', message: 'The requested action could not be performed, semantically incorrect, or failed business validation.', debug_id: randomHex(7), details: [{ issue: 'INSTRUMENT_DECLINED', description: 'The instrument presented was either declined by the processor or bank, or it can\'t be used for this payment.' }] };
      if (status >= 500) return { name: 'INTERNAL_SERVER_ERROR', message: 'An internal server error has occurred.', debug_id: randomHex(7), details: [] };
      const name = (STATUS_CODES[status] ?? 'error').toUpperCase().replace(/[^A-Z]+/g, '_');
      return { name, message: `The fake PayPal answered ${status} (injected fault).`, debug_id: randomHex(7), details: [] };
    },
    rateLimit: () => ({ name: 'RATE_LIMIT_REACHED', message: 'Too many requests. Blocked due to rate limiting.', debug_id: randomHex(7), details: [] }),
    validation: (_req, operation) => ({
      name: 'INVALID_REQUEST',
      message: 'Request is not well-formed, syntactically incorrect, or violates schema.',
      debug_id: randomHex(7),
      details: [
        {
          field: operation === 'refundCapture' ? '/amount/value' : '/purchase_units/@reference_id==\'default\'/amount/value',
          issue: 'MISSING_REQUIRED_PARAMETER',
          description: 'A required field / parameter is missing.',
        },
      ],
    }),
  },
};
