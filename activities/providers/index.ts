/**
 * The provider adapters by registry kind, and the one lookup the provider-call activity uses:
 * `adapterFor(provider, operation)` (generic `http` providers take their operations from the
 * registry entry rather than from code). `runProviderOperation` adds what every call needs before
 * it reaches a provider: the operation must exist and the params must pass its schema, both
 * failing non-retryably since no retry can fix them.
 */
import type { ProviderConfig } from '../../lib/registry';
import { providerErrorTypes, providerSetupFailure } from './classify';
import { googleCalendarAdapter } from './google-calendar';
import { googleSheetsAdapter } from './google-sheets';
import { googleMapsAdapter } from './google-maps';
import { httpAdapter, httpBatchOperation, httpOperationFor } from './http';
import { paypalAdapter } from './paypal';
import { sendgridAdapter } from './sendgrid';
import { stripeAdapter } from './stripe';
import { twilioAdapter } from './twilio';
import type { AdapterTable, OperationAdapter, ProviderCallContext, ProviderResult } from './types';
import { vonageSmsAdapter } from './vonage-sms';
import { yandexMapsAdapter } from './yandex-maps';

export const adapters: AdapterTable = {
  stripe: stripeAdapter,
  paypal: paypalAdapter,
  twilio: twilioAdapter,
  'vonage-sms': vonageSmsAdapter,
  sendgrid: sendgridAdapter,
  'google-calendar': googleCalendarAdapter,
  'google-sheets': googleSheetsAdapter,
  'google-maps': googleMapsAdapter,
  'yandex-maps': yandexMapsAdapter,
  http: httpAdapter,
};

/** The adapter for one operation of one provider, or undefined when the provider cannot do it. */
export function adapterFor(provider: ProviderConfig, operation: string): OperationAdapter<unknown> | undefined {
  if (provider.kind === 'http') {
    const declared = Object.hasOwn(provider.operations, operation) ? provider.operations[operation] : undefined;
    if (!declared?.method || !declared.path) return undefined;
    return declared.batchEndpoint ? httpBatchOperation : httpOperationFor(declared.path);
  }
  const table = adapters[provider.kind];
  // hasOwn: an operation named "toString" must not find Object.prototype's.
  return Object.hasOwn(table, operation) ? table[operation] : undefined;
}

/** Validates params and runs `ctx.operation` on `ctx.provider`; throws classified failures only. */
export async function runProviderOperation(ctx: ProviderCallContext, params: unknown): Promise<ProviderResult> {
  const adapter = adapterFor(ctx.provider, ctx.operation);
  const fail = (code: string, message: string) =>
    providerSetupFailure({ provider: ctx.provider.name, operation: ctx.operation, type: providerErrorTypes.invalidRequest, code, message });
  if (!adapter) throw fail('unknown_operation', `provider kind "${ctx.provider.kind}" has no operation "${ctx.operation}"`);
  const parsed = adapter.params.safeParse(params);
  if (!parsed.success) {
    // Paths and zod's messages only: param values may be personal data and stay out of history.
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(params)'}: ${issue.message}`);
    throw fail('invalid_params', issues.join('; '));
  }
  return adapter.run(parsed.data, ctx);
}

export { closeProviderConnections } from './http-core';
export { classifyProviderError, nonRetryableProviderErrorTypes, providerErrorTypes } from './classify';
export type { ProviderFailureDetails, ProviderErrorType } from './classify';
export { providerMetricsRegistry } from './metrics';
export type { ProviderCallContext, ProviderResult } from './types';
