/**
 * The one way into the provider adapters (by registry kind, from the registration list in
 * providers/index.ts): `prepareProviderCall` looks
 * the provider and operation up in the registry (own entries only; `lookUpProviderOperation`,
 * which the call's plan uses too), validates the params against the operation's schema and
 * returns the call ready to `send` through its adapter. The provider-call activity and the
 * adapter tests both go through it, so they meet the same lookup, the same validation and the
 * same failure types (contracts/errors.ts): an unknown provider or operation and invalid
 * params fail non-retryably before anything is sent, since no retry can fix them. Generic `http`
 * providers take their operations from the registry entry rather than from code (`adapterFor`).
 */
import { ApplicationFailure } from '@temporalio/common';
import { operationNamed, providerNamed, type OperationConfig, type ProviderConfig, type ProviderRegistry } from '../lib/config/registry';
import { callErrorTypes } from '../contracts/errors';
import { formatIssues } from '../lib/zod-issues';
import type { ProviderFailureDetails } from './core/classify';
import type { OperationAdapter, ProviderCallContext, ProviderResult } from './core/adapter-types';
import { tokenPricingOf, unpricedModelMessage, type TokenPricing } from './core/token-cost';
import { httpBatchOperation, httpOperationFor } from './http/adapter';
import { adapters, errorBodyFor } from './index';

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

/** One operation of one provider, by registry names, with the caller's params as given. */
export interface ProviderCallRequest {
  provider: string;
  operation: string;
  params: unknown;
}

/** What one attempt adds to a prepared call: credentials, idempotency key, cancellation, outbound policy. */
export type ProviderCallAttempt = Omit<ProviderCallContext, 'provider' | 'operation'>;

/** A provider call looked up and validated: nothing has been sent yet. */
export interface PreparedProviderCall {
  provider: ProviderConfig;
  operation: string;
  /** The registry's declaration of the operation (cost, cache TTL, failover). */
  declared: OperationConfig;
  /** The params as the operation's schema parsed them (normalised, defaults filled in). */
  params: unknown;
  /** Token-priced operations: the model's price and the estimate's cost (reserved before sending); null otherwise. */
  tokenPricing: TokenPricing | null;
  /** The operation's adapter (its `recipients` are checked against the suppression list before `send`). */
  adapter: OperationAdapter<unknown>;
  /** Sends the call through the operation's adapter; throws classified failures only (classify.ts). */
  send(attempt: ProviderCallAttempt): Promise<ProviderResult>;
}

/** A failure before anything was sent, with the provider failure details an operator reads. */
function notSent(request: Pick<ProviderCallRequest, 'provider' | 'operation'>, type: string, code: string, message: string): ApplicationFailure {
  const details: ProviderFailureDetails = { provider: request.provider, operation: request.operation, status: null, code, retryable: false };
  return ApplicationFailure.create({ message, type, nonRetryable: true, details: [details] });
}

/**
 * The provider and operation a call names: its registry entries and the operation's adapter.
 * Throws non-retryable `UnknownProvider`, or `UnknownOperation` when the registry does not declare
 * it or no adapter can do it.
 */
export function lookUpProviderOperation(
  registry: ProviderRegistry,
  request: Pick<ProviderCallRequest, 'provider' | 'operation'>,
): { provider: ProviderConfig; declared: OperationConfig; adapter: OperationAdapter<unknown> } {
  const provider = providerNamed(registry, request.provider);
  if (!provider) throw notSent(request, callErrorTypes.unknownProvider, 'unknown_provider', `unknown provider "${request.provider}"`);
  const declared = operationNamed(provider, request.operation);
  const adapter = adapterFor(provider, request.operation);
  if (!declared || !adapter) {
    throw notSent(request, callErrorTypes.unknownOperation, 'unknown_operation', `${request.provider} has no operation "${request.operation}"`);
  }
  return { provider, declared, adapter };
}

/**
 * The one entry point of a provider call: looks the operation up (`lookUpProviderOperation`) and
 * validates its params, throwing non-retryable `InvalidCallParams` when they fail its schema (or,
 * for a token-priced operation, name a model the registry has no price for).
 */
export function prepareProviderCall(registry: ProviderRegistry, request: ProviderCallRequest): PreparedProviderCall {
  const { provider, declared, adapter } = lookUpProviderOperation(registry, request);
  const parsed = adapter.params.safeParse(request.params);
  if (!parsed.success) {
    // Paths and zod's messages only: param values may be personal data and stay out of history.
    const issues = formatIssues(parsed.error, { root: '(root)' }).join('; ');
    throw notSent(request, callErrorTypes.invalidParams, 'invalid_params', `${request.provider} ${request.operation}: invalid params: ${issues}`);
  }
  const params = parsed.data;
  const pricing = tokenPricingOf(declared, adapter, params);
  if (pricing && 'unpriced' in pricing) {
    throw notSent(request, callErrorTypes.invalidParams, 'unpriced_model', `${request.provider} ${request.operation}: ${unpricedModelMessage(pricing)}`);
  }
  const { operation } = request;
  return { provider, operation, declared, params, tokenPricing: pricing, adapter, send: (attempt) => adapter.run(params, { ...attempt, provider, operation, errorBody: errorBodyFor(provider.kind) }) };
}

export { closeProviderConnections } from './core/http-core';
export { classifyProviderError, nonRetryableProviderErrorTypes, providerErrorTypes } from './core/classify';
export type { ProviderFailureDetails, ProviderErrorType } from './core/classify';
export { providerMetricsRegistry } from './core/metrics';
export type { ProviderCallContext, ProviderResult } from './core/adapter-types';
