/**
 * X-Twilio-Signature verification with the official `twilio` package: HMAC-SHA1 (keyed by the
 * account's auth token) over the full URL Twilio called followed by the sorted form parameters.
 * The primary and secondary auth tokens are both live during a rotation.
 */
import twilio from 'twilio';
import { hasUnstorableText, noSecretConfigured, sanitiseToIdCharset, unstorableTextReason } from '../core/event-parsing';
import type { InboundWebhook, SignatureScheme, VerifyResult } from '../core/scheme-types';

export type TwilioOptions = Record<string, never>;

/** Form parameters as Twilio signs them: a repeated name becomes a list of its values. */
export type TwilioParams = Record<string, string | string[]>;

export function parseTwilioForm(rawBody: Buffer): TwilioParams {
  const collected = new Map<string, string | string[]>();
  for (const [name, value] of new URLSearchParams(rawBody.toString('utf8'))) {
    const previous = collected.get(name);
    if (previous === undefined) collected.set(name, value);
    else collected.set(name, Array.isArray(previous) ? [...previous, value] : [previous, value]);
  }
  // fromEntries defines own properties, so a parameter named "__proto__" stays plain data.
  return Object.fromEntries(collected);
}

/** The first parameter present with a non-empty single value. */
function firstParam(params: TwilioParams, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = params[name];
    if (typeof value === 'string' && value.length > 0) return value;
  }
  return undefined;
}

function verifyTwilioSignature(request: InboundWebhook, secrets: readonly string[]): VerifyResult {
  const header = request.headers['x-twilio-signature'];
  if (!header) return { ok: false, reason: 'missing X-Twilio-Signature header' };
  if (secrets.length === 0) return noSecretConfigured;
  const params = parseTwilioForm(request.rawBody);
  for (const authToken of secrets) {
    try {
      if (twilio.validateRequest(authToken, header, request.url, params)) return { ok: true };
    } catch {
      // The library parses the URL with `new URL()`; only a malformed URL throws here.
      return { ok: false, reason: 'request URL is not an absolute URL' };
    }
  }
  return { ok: false, reason: 'X-Twilio-Signature does not match the URL and parameters for any live auth token' };
}

export const twilioScheme: SignatureScheme<TwilioOptions> = {
  contentTypes: ['application/x-www-form-urlencoded'],
  verify: (request, secrets) => verifyTwilioSignature(request, secrets),
  extract(request) {
    const params = parseTwilioForm(request.rawBody);
    // %00 decodes to NUL, which the ledger's jsonb payload cannot hold.
    if (hasUnstorableText(params)) return { ok: false, reason: unstorableTextReason };
    const messageSid = firstParam(params, ['MessageSid', 'SmsSid']);
    const sid = messageSid ?? firstParam(params, ['CallSid']);
    if (sid === undefined) {
      return {
        ok: false,
        reason: 'body has no MessageSid, SmsSid or CallSid',
        fields: { MessageSid: 'required (or SmsSid or CallSid)' },
      };
    }
    const status = firstParam(params, ['MessageStatus', 'SmsStatus', 'CallStatus']) ?? 'received';
    const family = messageSid === undefined ? 'call' : 'message';
    return {
      ok: true,
      events: [
        {
          eventId: sanitiseToIdCharset(`${sid}:${status}`),
          eventType: sanitiseToIdCharset(`${family}.${status}`),
          payload: params,
        },
      ],
    };
  },
};
