/**
 * The scheme table: a source's configuration names its scheme, and the webhook route looks the
 * scheme up here, verifies with the source's live secrets, then extracts the events. The schemes
 * come from the registered providers (providers/index.ts), each from its folder's webhook.ts.
 */
import { schemeDeclarations, type SchemeName } from '../providers';
import type { SignatureScheme } from '../providers/core/scheme-types';

export type { SchemeName };

export const schemes = Object.fromEntries(
  Object.entries(schemeDeclarations).map(([name, declaration]) => [name, declaration.scheme]),
) as Readonly<Record<SchemeName, SignatureScheme<unknown>>>;

export function isSchemeName(name: string): name is SchemeName {
  return Object.hasOwn(schemes, name);
}

export type { ExtractedEvent, ExtractResult, InboundWebhook, SignatureScheme, VerifyResult } from '../providers/core/scheme-types';
export type { StripeOptions } from '../providers/stripe/webhook';
export type { TwilioOptions } from '../providers/twilio/webhook';
export type { SendgridOptions } from '../providers/sendgrid/webhook';
export type { StandardWebhooksOptions } from '../providers/standard-webhooks/webhook';
export type { GithubOptions } from '../providers/github/webhook';
export type { GoogleCalendarOptions } from '../providers/core/google-channel-token';
export { genericSourceOptions, type GenericHmacOptions, type GenericSourceOptionsInput } from '../providers/generic-hmac/webhook';
