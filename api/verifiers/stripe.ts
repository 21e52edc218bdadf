/**
 * Stripe-Signature verification with the official `stripe` package: HMAC-SHA256 over
 * "{timestamp}.{raw body}", timestamp tolerance, and every live secret tried (rotation).
 */
import Stripe from 'stripe';

export type VerifyResult = { ok: true } | { ok: false; reason: string };

export function verifyStripeSignature(
  rawBody: Buffer,
  header: string | undefined,
  secrets: readonly string[],
  toleranceSeconds: number,
): VerifyResult {
  if (!header) return { ok: false, reason: 'missing Stripe-Signature header' };
  const signature = Stripe.webhooks.signature;
  if (signature === null) throw new Error('stripe package exposes no webhook signature verifier');
  let reason = 'no signing secret configured';
  for (const secret of secrets) {
    try {
      signature.verifyHeader(rawBody, header, secret, toleranceSeconds);
      return { ok: true };
    } catch (err) {
      // The library's message says which check failed (format, timestamp outside tolerance, or no
      // matching signature); it never contains the secret.
      reason = err instanceof Error ? err.message.split('\n')[0]! : 'signature verification failed';
    }
  }
  return { ok: false, reason };
}
