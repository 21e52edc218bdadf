/**
 * Stripe-Signature verification with the official `stripe` package: HMAC-SHA256 over
 * "{timestamp}.{raw body}", timestamp tolerance, and every live secret tried (rotation).
 */
import Stripe from 'stripe';
import { z } from 'zod';
import { eventIdSchema, eventTypeSchema, invalidBody, noSecretConfigured, parseJsonBody } from '../core/event-parsing';
import type { SignatureScheme, VerifyResult } from '../core/scheme-types';

export type { VerifyResult } from '../core/scheme-types';

export interface StripeOptions {
  /** Largest accepted distance between the signed timestamp and now; 0 turns the check off (as in Stripe's library). */
  toleranceSeconds: number;
}

/** The `t=` element of a Stripe-Signature header, when it has a numeric one. */
function signedTimestamp(header: string): number | undefined {
  const element = header.split(',').find((item) => item.trim().startsWith('t='));
  const seconds = element === undefined ? NaN : Number(element.trim().slice(2));
  return Number.isInteger(seconds) ? seconds : undefined;
}

export function verifyStripeSignature(
  rawBody: Buffer,
  header: string | undefined,
  secrets: readonly string[],
  toleranceSeconds: number,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): VerifyResult {
  if (!header) return { ok: false, reason: 'missing Stripe-Signature header' };
  const signature = Stripe.webhooks.signature;
  if (signature === null) throw new Error('stripe package exposes no webhook signature verifier');
  if (secrets.length === 0) return noSecretConfigured;
  let result: VerifyResult = noSecretConfigured;
  for (const secret of secrets) {
    try {
      signature.verifyHeader(rawBody, header, secret, toleranceSeconds, undefined, nowSeconds * 1000);
      result = { ok: true };
      break;
    } catch (err) {
      // The library's message says which check failed (format, timestamp outside tolerance, or no
      // matching signature); it never contains the secret.
      result = { ok: false, reason: err instanceof Error ? err.message.split('\n')[0]! : 'signature verification failed' };
    }
  }
  if (!result.ok) return result;
  // Stripe's library only refuses stale timestamps; a timestamp far in the future is as suspect
  // (a signature minted for later replay), so it is refused with the same tolerance.
  const timestamp = signedTimestamp(header);
  if (toleranceSeconds > 0 && timestamp !== undefined && timestamp - nowSeconds > toleranceSeconds) {
    return { ok: false, reason: 'Timestamp outside the tolerance zone (in the future)' };
  }
  return result;
}

const stripeEvent = z.looseObject({
  id: eventIdSchema,
  type: eventTypeSchema,
  data: z.looseObject({ object: z.record(z.string(), z.unknown()) }),
});

export const stripeScheme: SignatureScheme<StripeOptions> = {
  contentTypes: ['application/json'],
  verify: (request, secrets, options) =>
    verifyStripeSignature(request.rawBody, request.headers['stripe-signature'], secrets, options.toleranceSeconds, request.nowSeconds),
  extract(request) {
    const body = parseJsonBody(request.rawBody);
    if (!body.ok) return body;
    const parsed = stripeEvent.safeParse(body.value);
    if (!parsed.success) return invalidBody('body is not a Stripe event', parsed.error);
    return { ok: true, events: [{ eventId: parsed.data.id, eventType: parsed.data.type, payload: parsed.data }] };
  },
};
