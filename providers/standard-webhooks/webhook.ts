/**
 * Standard Webhooks (standardwebhooks.com; Svix and others) verified with the official
 * `standardwebhooks` package: HMAC-SHA256 over "{webhook-id}.{webhook-timestamp}.{raw body}",
 * several space-separated "v1,<base64>" signatures of which any may match, and the library's fixed
 * five-minute tolerance for stale and future timestamps. Secrets look like "whsec_<base64>".
 */
import { Webhook } from 'standardwebhooks';
import { z } from 'zod';
import { decodeUtf8, eventIdSchema, eventTypeSchema, invalidBody, noSecretConfigured, parseJsonBody } from '../core/event-parsing';
import type { SignatureScheme, VerifyResult } from '../core/scheme-types';

export type StandardWebhooksOptions = Record<string, never>;

/** The tolerance the library enforces (not configurable there); mirrored for the injected clock. */
export const standardWebhooksToleranceSeconds = 5 * 60;

/** The three headers every Standard Webhooks request carries, named as the library expects them. */
interface StandardWebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

function verifyStandardWebhook(rawBody: Buffer, headers: StandardWebhookHeaders, nowSeconds: number, secrets: readonly string[]): VerifyResult {
  // The library checks the timestamp against the wall clock; checking it against the request's
  // clock too keeps the injected `nowSeconds` authoritative (both agree in production).
  if (!/^\d{1,12}$/.test(headers['webhook-timestamp'])) return { ok: false, reason: 'webhook-timestamp is not a Unix time in seconds' };
  const timestamp = Number(headers['webhook-timestamp']);
  if (nowSeconds - timestamp > standardWebhooksToleranceSeconds) return { ok: false, reason: 'Message timestamp too old' };
  if (timestamp - nowSeconds > standardWebhooksToleranceSeconds) return { ok: false, reason: 'Message timestamp too new' };
  if (secrets.length === 0) return noSecretConfigured;
  // The library signs the body as a decoded string; see decodeUtf8 for why invalid bytes are refused.
  if (decodeUtf8(rawBody) === undefined) return { ok: false, reason: 'body is not valid UTF-8' };
  let reason = 'no configured secret is a valid Standard Webhooks secret (whsec_<base64>)';
  for (const secret of secrets) {
    let webhook: Webhook;
    try {
      webhook = new Webhook(secret);
    } catch {
      continue;
    }
    try {
      // jsonParse off: a verified but non-JSON body is extract's 400, not a signature failure.
      webhook.verify(rawBody, headers, { jsonParse: false });
      return { ok: true };
    } catch (err) {
      // WebhookVerificationError messages name the failed check, never the secret.
      reason = err instanceof Error ? err.message : 'signature verification failed';
    }
  }
  return { ok: false, reason };
}

const standardWebhookBody = z.looseObject({ type: eventTypeSchema });

export const standardWebhooksScheme: SignatureScheme<StandardWebhooksOptions> = {
  contentTypes: ['application/json'],
  verify(request, secrets) {
    const id = request.headers['webhook-id'];
    const timestamp = request.headers['webhook-timestamp'];
    const signature = request.headers['webhook-signature'];
    if (!id) return { ok: false, reason: 'missing webhook-id header' };
    if (!timestamp) return { ok: false, reason: 'missing webhook-timestamp header' };
    if (!signature) return { ok: false, reason: 'missing webhook-signature header' };
    const headers = { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature };
    return verifyStandardWebhook(request.rawBody, headers, request.nowSeconds, secrets);
  },
  extract(request) {
    const messageId = eventIdSchema.safeParse(request.headers['webhook-id']);
    if (!messageId.success) return { ok: false, reason: 'webhook-id header is not a valid event id', fields: { 'webhook-id': messageId.error.issues[0]!.message } };
    const body = parseJsonBody(request.rawBody);
    if (!body.ok) return body;
    const parsed = standardWebhookBody.safeParse(body.value);
    if (!parsed.success) return invalidBody('body is not a Standard Webhooks event (an object with a type)', parsed.error);
    return { ok: true, events: [{ eventId: messageId.data, eventType: parsed.data.type, payload: parsed.data }] };
  },
};
