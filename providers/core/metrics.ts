/**
 * Prometheus metrics for outbound provider requests, counted once in the shared HTTP core (its own
 * requests and, through `sdkProviderRequest`, those of the Stripe and Sheets SDKs) so every provider
 * is measured the same way. A module-level
 * registry of their own: the worker merges it into its /metrics, tests read it directly.
 */
import { Counter, Histogram, Registry } from 'prom-client';
import type { ProviderRegistry } from '../../lib/config/registry';
import { providerOutcomeOf, type ProviderOutcome } from './classify';

export const providerMetricsRegistry = new Registry();

export const providerRequestsTotal = new Counter<'provider' | 'operation' | 'outcome'>({
  name: 'provider_requests_total',
  help: 'Outbound provider requests by provider, operation and outcome (success, rejected, throttled, unavailable)',
  labelNames: ['provider', 'operation', 'outcome'],
  registers: [providerMetricsRegistry],
});

export const providerRequestDuration = new Histogram<'provider' | 'operation'>({
  name: 'provider_request_duration_seconds',
  help: 'Outbound provider request duration by provider and operation, whatever the outcome',
  labelNames: ['provider', 'operation'],
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [providerMetricsRegistry],
});

const providerOutcomes: readonly ProviderOutcome[] = ['success', 'rejected', 'throttled', 'unavailable'];

/**
 * A zero for every registered provider, operation (and its health probe, operation `probe`) and
 * outcome, so an error ratio is 0, not nothing, before the first failure and the panels are not
 * empty before the first request. Bounded by the registry: 4 series per operation.
 */
export function initProviderRequestSeries(registry: ProviderRegistry): void {
  for (const provider of Object.values(registry)) {
    for (const operation of [...Object.keys(provider.operations), 'probe']) {
      for (const outcome of providerOutcomes) providerRequestsTotal.inc({ provider: provider.name, operation, outcome }, 0);
    }
  }
}

export function recordProviderRequest(provider: string, operation: string, outcome: ProviderOutcome, seconds: number): void {
  providerRequestsTotal.inc({ provider, operation, outcome });
  providerRequestDuration.observe({ provider, operation }, seconds);
}

/**
 * Runs one provider request and records it. `isCancellation` tells apart an activity cancelled
 * by Temporal, which says nothing about the provider's health and is not counted.
 */
export async function measureProviderRequest<T>(
  labels: { provider: string; operation: string },
  isCancellation: (error: unknown) => boolean,
  run: () => Promise<T>,
): Promise<T> {
  const started = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
  try {
    const result = await run();
    recordProviderRequest(labels.provider, labels.operation, 'success', elapsed());
    return result;
  } catch (error) {
    if (!isCancellation(error)) recordProviderRequest(labels.provider, labels.operation, providerOutcomeOf(error), elapsed());
    throw error;
  }
}
