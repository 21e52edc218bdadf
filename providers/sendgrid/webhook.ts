/**
 * SendGrid's signed event webhook, verified with the official `@sendgrid/eventwebhook` package:
 * an ECDSA P-256 signature over "{timestamp}{raw body}". The source's "secrets" are verification
 * public keys, so a rotation is two keys side by side: base64 DER as SendGrid shows them, or a PEM
 * file's text, each with any whitespace and line ends (LF or CRLF) around or inside it. One
 * request carries a batch of events, each becoming its own ExtractedEvent.
 */
import { createPublicKey } from 'node:crypto';
import { EventWebhook } from '@sendgrid/eventwebhook';
import { z } from 'zod';
import { decodeUtf8, eventIdSchema, eventTypeSchema, invalidBody, noSecretConfigured, parseJsonBody } from '../core/event-parsing';
import type { SignatureScheme, VerifyResult } from '../core/scheme-types';

export interface SendgridOptions {
  /** Largest accepted distance, stale or future, between the signed timestamp and now. */
  toleranceSeconds: number;
}

const eventWebhook = new EventWebhook();
type EcdsaPublicKey = ReturnType<EventWebhook['convertPublicKeyToECDSA']>;

/**
 * Parsing a key validates its point on the curve in pure JavaScript (milliseconds per call), and a
 * source's keys change only on rotation: parsed keys are kept, bounded so a stream of distinct
 * keys cannot grow memory without limit.
 */
const parsedKeys = new Map<string, EcdsaPublicKey | 'invalid'>();
const parsedKeysLimit = 64;

const pemPublicKey = /^-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]*)-----END PUBLIC KEY-----$/;

/**
 * The verification key in `text` as base64 DER (SPKI, no whitespace), or null when it is not a
 * P-256 public key: `text` is SendGrid's base64 DER or a PEM "PUBLIC KEY" block, with whitespace
 * and line ends (a PEM file always ends with one) anywhere around or inside the base64.
 */
export function sendgridVerificationKey(text: string): string | null {
  const trimmed = text.trim();
  const base64 = (pemPublicKey.exec(trimmed)?.[1] ?? trimmed).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return null;
  try {
    const key = createPublicKey({ key: Buffer.from(base64, 'base64'), format: 'der', type: 'spki' });
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') return null;
    return key.export({ format: 'der', type: 'spki' }).toString('base64');
  } catch {
    return null;
  }
}

function parsePublicKey(verificationKey: string): EcdsaPublicKey | 'invalid' {
  const cached = parsedKeys.get(verificationKey);
  if (cached !== undefined) return cached;
  let parsed: EcdsaPublicKey | 'invalid' = 'invalid';
  const der = sendgridVerificationKey(verificationKey);
  try {
    if (der !== null) parsed = eventWebhook.convertPublicKeyToECDSA(der);
  } catch {
    parsed = 'invalid';
  }
  if (parsedKeys.size >= parsedKeysLimit) parsedKeys.delete(parsedKeys.keys().next().value!);
  parsedKeys.set(verificationKey, parsed);
  return parsed;
}

function verifySendgridSignature(rawBody: Buffer, signature: string, timestamp: string, verificationKeys: readonly string[]): VerifyResult {
  let sawValidKey = false;
  for (const verificationKey of verificationKeys) {
    const publicKey = parsePublicKey(verificationKey);
    if (publicKey === 'invalid') continue;
    sawValidKey = true;
    try {
      if (eventWebhook.verifySignature(publicKey, rawBody, signature, timestamp)) return { ok: true };
    } catch {
      // A signature that is not base64 DER makes the library throw: it matches no key.
      return { ok: false, reason: 'signature header is not a base64 DER ECDSA signature' };
    }
  }
  return sawValidKey
    ? { ok: false, reason: 'signature does not match the timestamp and body for any live verification key' }
    : { ok: false, reason: 'no configured verification key is a valid ECDSA public key (P-256, base64 DER or PEM)' };
}

const sendgridEvents = z
  .array(z.looseObject({ sg_event_id: eventIdSchema, event: eventTypeSchema }))
  .min(1, 'a batch holds at least one event');

export const sendgridScheme: SignatureScheme<SendgridOptions> = {
  contentTypes: ['application/json'],
  verify(request, secrets, options) {
    const signature = request.headers['x-twilio-email-event-webhook-signature'];
    const timestamp = request.headers['x-twilio-email-event-webhook-timestamp'];
    if (!signature) return { ok: false, reason: 'missing X-Twilio-Email-Event-Webhook-Signature header' };
    if (!timestamp) return { ok: false, reason: 'missing X-Twilio-Email-Event-Webhook-Timestamp header' };
    if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'X-Twilio-Email-Event-Webhook-Timestamp is not a Unix time in seconds' };
    const age = request.nowSeconds - Number(timestamp);
    if (age > options.toleranceSeconds) return { ok: false, reason: 'timestamp is older than the tolerance' };
    if (-age > options.toleranceSeconds) return { ok: false, reason: 'timestamp is further in the future than the tolerance' };
    if (secrets.length === 0) return noSecretConfigured;
    // The library hashes the body as a decoded string; see decodeUtf8 for why invalid bytes are refused.
    if (decodeUtf8(request.rawBody) === undefined) return { ok: false, reason: 'body is not valid UTF-8' };
    return verifySendgridSignature(request.rawBody, signature, timestamp, secrets);
  },
  extract(request) {
    const body = parseJsonBody(request.rawBody);
    if (!body.ok) return body;
    const parsed = sendgridEvents.safeParse(body.value);
    if (!parsed.success) return invalidBody('body is not a batch of SendGrid events', parsed.error);
    return {
      ok: true,
      events: parsed.data.map((event) => ({ eventId: event.sg_event_id, eventType: event.event, payload: event })),
    };
  },
};
