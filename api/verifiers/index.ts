/**
 * The scheme table: a source's configuration names its scheme, and the webhook route looks the
 * scheme up here, verifies with the source's live secrets, then extracts the events.
 */
import { genericHmacScheme } from '../../providers/generic-hmac/webhook';
import { githubScheme } from '../../providers/github/webhook';
import { googleCalendarScheme } from '../../providers/core/google-channel-token';
import { sendgridScheme } from '../../providers/sendgrid/webhook';
import { standardWebhooksScheme } from '../../providers/standard-webhooks/webhook';
import { stripeScheme } from '../../providers/stripe/webhook';
import { twilioScheme } from '../../providers/twilio/webhook';

export const schemes = {
  stripe: stripeScheme,
  twilio: twilioScheme,
  sendgrid: sendgridScheme,
  'standard-webhooks': standardWebhooksScheme,
  github: githubScheme,
  'google-channel-token': googleCalendarScheme,
  hmac: genericHmacScheme,
} as const;

export type SchemeName = keyof typeof schemes;

/** The options a scheme's verify and extract take, e.g. SchemeOptions<'stripe'> = StripeOptions. */
export type SchemeOptions<Name extends SchemeName> = Parameters<(typeof schemes)[Name]['extract']>[1];

export function isSchemeName(name: string): name is SchemeName {
  return Object.hasOwn(schemes, name);
}

export type { ExtractedEvent, ExtractResult, InboundWebhook, SignatureScheme, VerifyResult } from '../../providers/core/scheme-types';
export type { StripeOptions } from '../../providers/stripe/webhook';
export type { TwilioOptions } from '../../providers/twilio/webhook';
export type { SendgridOptions } from '../../providers/sendgrid/webhook';
export type { StandardWebhooksOptions } from '../../providers/standard-webhooks/webhook';
export type { GithubOptions } from '../../providers/github/webhook';
export type { GoogleCalendarOptions } from '../../providers/core/google-channel-token';
export { genericSourceOptions, type GenericHmacOptions, type GenericSourceOptionsInput } from '../../providers/generic-hmac/webhook';
