/**
 * Token-priced operations (OpenAI-style chat completions and embeddings): their cost is tokens
 * times the per-model prices the registry declares (`operations.<op>.tokenPrices`). A call
 * reserves the cost of its adapter's estimate (prompt length, max tokens) and is settled at the
 * answer's usage (activities/call-provider.ts), so budgets and spend show what it really cost.
 */
import type { OperationConfig, TokenPrice } from '../../lib/config/registry';
import type { OperationAdapter, TokenUsage } from './adapter-types';

/** The cost ledger keeps 6 decimals. */
function usd(amount: number): number {
  return Math.round(amount * 1e6) / 1e6;
}

/** What `usage` costs at `price`. */
export function tokenCostUsd(price: TokenPrice, usage: Pick<TokenUsage, 'promptTokens' | 'completionTokens'>): number {
  return usd((usage.promptTokens / 1000) * price.promptPer1kUsd + (usage.completionTokens / 1000) * price.completionPer1kUsd);
}

/** The declared price of `model` (own entries only: a model named "constructor" is unpriced). */
export function tokenPriceOf(declared: Pick<OperationConfig, 'tokenPrices'>, model: string): TokenPrice | undefined {
  const prices = declared.tokenPrices;
  return prices && Object.hasOwn(prices, model) ? prices[model] : undefined;
}

/** A token-priced call before it is sent: the model's price and the estimate's cost. */
export interface TokenPricing {
  model: string;
  price: TokenPrice;
  estimateUsd: number;
}

/**
 * The token pricing of a call with validated `params`: null for an operation that is not
 * token-priced, `{unpriced}` when the registry has no price for the call's model.
 */
export function tokenPricingOf(
  declared: Pick<OperationConfig, 'tokenPrices'>,
  adapter: Pick<OperationAdapter<unknown>, 'tokenEstimate'>,
  params: unknown,
): TokenPricing | { unpriced: string; priced: string[] } | null {
  if (!declared.tokenPrices || !adapter.tokenEstimate) return null;
  const estimate = adapter.tokenEstimate(params);
  const price = tokenPriceOf(declared, estimate.model);
  if (!price) return { unpriced: estimate.model, priced: Object.keys(declared.tokenPrices) };
  return { model: estimate.model, price, estimateUsd: tokenCostUsd(price, estimate) };
}

/** Why a call's model cannot be run: no price for it. */
export function unpricedModelMessage(pricing: { unpriced: string; priced: string[] }): string {
  return `model "${pricing.unpriced}" has no token price in the registry (priced: ${pricing.priced.join(', ') || 'none'})`;
}
