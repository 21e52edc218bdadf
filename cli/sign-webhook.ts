/**
 * Test webhooks signed the way each provider signs them, so `switchyard send-webhook <source>`
 * exercises the real verification path: Stripe with the official library's test header, Twilio
 * with the official library's expected signature, Standard Webhooks with the official library,
 * GitHub and generic HMAC sources with node:crypto under the source's configured options, Google
 * Calendar with its channel token. SendGrid signs with a private key the API never holds, so it
 * cannot be imitated here.
 */
import { createHmac, randomUUID } from 'node:crypto';
import Stripe from 'stripe';
import twilio from 'twilio';
import { Webhook } from 'standardwebhooks';
import type { GenericHmacOptions } from '../api/webhook-schemes';
import type { WebhookSource } from '../api/webhook-sources';

export interface TestWebhookInput {
  source: WebhookSource;
  /** The first live secret of the source for the tenant. */
  secret: string;
  /** The full URL the request goes to (Twilio signs it). */
  url: string;
  eventType?: string;
  eventId?: string;
}

export interface SignedWebhook {
  body: string;
  headers: Record<string, string>;
  eventId: string;
  eventType: string;
}

/** Thrown for a source this command cannot sign for; the message says why. */
export class UnsignableSourceError extends Error {}

const compactId = () => randomUUID().replace(/-/g, '');

/** Sets `value` at a dot path ("data.id"), creating objects on the way. */
function setAtPath(target: Record<string, unknown>, path: string, value: string): void {
  const segments = path.split('.');
  let current = target;
  for (const segment of segments.slice(0, -1)) {
    const next = current[segment];
    if (typeof next !== 'object' || next === null) current[segment] = {};
    current = current[segment] as Record<string, unknown>;
  }
  current[segments[segments.length - 1]!] = value;
}

function signStripe({ secret, eventType = 'payment_intent.succeeded', eventId = `evt_${compactId()}` }: TestWebhookInput): SignedWebhook {
  const body = JSON.stringify({
    id: eventId,
    object: 'event',
    type: eventType,
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    data: {
      object: { id: `pi_${compactId().slice(0, 24)}`, object: 'payment_intent', amount: 2000, amount_received: 2000, currency: 'usd', status: 'succeeded' },
    },
  });
  return { body, headers: { 'content-type': 'application/json', 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: body, secret }) }, eventId, eventType };
}

function signTwilio({ secret, url, eventType = 'message.delivered', eventId }: TestWebhookInput): SignedWebhook {
  const status = eventType.replace(/^message\./, '');
  const sid = eventId ?? `SM${compactId()}`;
  const params = { MessageSid: sid, MessageStatus: status, AccountSid: `AC${compactId()}`, From: '+14155550100', To: '+14155550101' };
  const signature = twilio.getExpectedTwilioSignature(secret, url, params);
  return {
    body: new URLSearchParams(params).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
    eventId: `${sid}:${status}`,
    eventType: `message.${status}`,
  };
}

function signStandard({ secret, eventType = 'test.event', eventId = `msg_${compactId()}` }: TestWebhookInput): SignedWebhook {
  const now = new Date();
  const body = JSON.stringify({ type: eventType, timestamp: now.toISOString(), data: { test: true } });
  const signature = new Webhook(secret).sign(eventId, now, body);
  return {
    body,
    headers: { 'content-type': 'application/json', 'webhook-id': eventId, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': signature },
    eventId,
    eventType,
  };
}

function signGithub({ secret, eventType = 'ping', eventId = randomUUID() }: TestWebhookInput): SignedWebhook {
  // "issues.opened" is X-GitHub-Event "issues" with action "opened" in the body.
  const [event, action] = eventType.split('.', 2) as [string, string | undefined];
  const body = JSON.stringify({ ...(action === undefined ? {} : { action }), zen: 'Keep it logically awesome.', hook_id: 1 });
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-github-delivery': eventId,
      'x-github-event': event,
      'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
    },
    eventId,
    eventType,
  };
}

function signGoogleCalendar({ secret, eventType = 'calendar.exists', eventId }: TestWebhookInput): SignedWebhook {
  const state = eventType.replace(/^calendar\./, '');
  const channel = eventId?.split(':')[0] ?? `channel-${compactId().slice(0, 12)}`;
  const message = String(Date.now());
  return {
    body: '',
    headers: { 'x-goog-channel-token': secret, 'x-goog-channel-id': channel, 'x-goog-message-number': message, 'x-goog-resource-state': state, 'x-goog-resource-id': 'test' },
    eventId: `${channel}:${message}`,
    eventType: `calendar.${state}`,
  };
}

function signGenericHmac(input: TestWebhookInput): SignedWebhook {
  const options = input.source.options as GenericHmacOptions;
  const eventId = input.eventId ?? `evt_${compactId()}`;
  const eventType = input.eventType ?? 'test.event';
  const payload: Record<string, unknown> = { test: true };
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.eventIdHeader !== undefined) headers[options.eventIdHeader] = eventId;
  else if (options.eventIdField !== undefined) setAtPath(payload, options.eventIdField, eventId);
  if (options.eventTypeField !== undefined) setAtPath(payload, options.eventTypeField, eventType);
  const body = JSON.stringify(payload);
  let signed = body;
  if (options.timestampHeader !== undefined) {
    const timestamp = String(Math.floor(Date.now() / 1000));
    headers[options.timestampHeader] = timestamp;
    if (options.signedPayload === 'timestamp.body') signed = `${timestamp}.${body}`;
  }
  headers[options.header] = `${options.prefix}${createHmac(options.algorithm, input.secret).update(signed).digest(options.encoding)}`;
  return { body, headers, eventId: (options.eventIdHeader ?? options.eventIdField) !== undefined ? eventId : '(body digest)', eventType: options.eventTypeField ? eventType : 'event' };
}

/** A request the API's verifier for `input.source` accepts. */
export function signTestWebhook(input: TestWebhookInput): SignedWebhook {
  switch (input.source.scheme) {
    case 'stripe':
      return signStripe(input);
    case 'twilio':
      return signTwilio(input);
    case 'standard-webhooks':
      return signStandard(input);
    case 'github':
      return signGithub(input);
    case 'google-channel-token':
      return signGoogleCalendar(input);
    case 'hmac':
      return signGenericHmac(input);
    case 'sendgrid':
      throw new UnsignableSourceError(`${input.source.name}: SendGrid signs with its private key (the API holds only the public key), so no test webhook can be made for it`);
  }
}
