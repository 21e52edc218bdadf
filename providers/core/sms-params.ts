/**
 * The `sendSms` params every SMS provider accepts, in one place: a call that fails over from
 * Twilio to its Vonage backup keeps its params unchanged.
 */
import { z } from 'zod';
import { providerErrorTypes, providerSetupFailure } from './classify';
import type { ProviderCallContext } from './adapter-types';

export const sendSmsParams = z.object({
  /** E.164, e.g. +14155550100. */
  to: z.string().min(1),
  body: z.string().min(1),
  /** Defaults to the provider's `from` credential. */
  from: z.string().min(1).optional(),
});
export type SendSmsParams = z.infer<typeof sendSmsParams>;

/** The sender for this call: the caller's, else the provider's configured default. */
export function smsSender(params: SendSmsParams, ctx: ProviderCallContext): string {
  const from = params.from ?? ctx.credentials.from;
  if (from) return from;
  throw providerSetupFailure({
    provider: ctx.provider.name,
    operation: ctx.operation,
    type: providerErrorTypes.misconfigured,
    code: 'missing_sender',
    message: 'no "from" number: pass params.from or set the provider\'s "from" credential',
  });
}
