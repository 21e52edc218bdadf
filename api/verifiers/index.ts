/**
 * The scheme table: a source's configuration names its scheme, and the webhook route looks the
 * scheme up here, verifies with the source's live secrets, then extracts the events.
 */
import { genericHmacScheme } from './generic-hmac';
import { githubScheme } from './github';
import { googleCalendarScheme } from '../../providers/core/google-channel-token';
import { sendgridScheme } from './sendgrid';
import { standardWebhooksScheme } from './standard-webhooks';
import { stripeScheme } from './stripe';
import { twilioScheme } from './twilio';

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
export type { StripeOptions } from './stripe';
export type { TwilioOptions } from './twilio';
export type { SendgridOptions } from './sendgrid';
export type { StandardWebhooksOptions } from './standard-webhooks';
export type { GithubOptions } from './github';
export type { GoogleCalendarOptions } from '../../providers/core/google-channel-token';
export { genericSourceOptions, type GenericHmacOptions, type GenericSourceOptionsInput } from './generic-hmac';
