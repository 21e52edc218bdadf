/**
 * The `weighted` failover strategy's routing, as the source health monitor specifies it
 * (HEALTH_SCORE_WEIGHT 0.7, RESPONSE_TIME_WEIGHT 0.3): each candidate's routing score is
 * 0.7 × health + 0.3 × response time, and a call's first candidate is drawn with a chance that
 * falls steeply with the score's distance from the best. Pure: planProviderCall
 * (activities/call-provider.ts) reads the figures from PostgreSQL (lib/data/circuits.ts
 * routingFigures) and passes them in.
 */
import type { ThresholdsConfig } from '../lib/config/registry';

export const HEALTH_WEIGHT = 0.7;
export const RESPONSE_TIME_WEIGHT = 0.3;
/** How far back the health and response-time scores look: probes and calls of the last 5 minutes. */
export const ROUTING_WINDOW_SECONDS = 300;
/**
 * Every SCORE_SPREAD of routing score behind the best candidate divides a candidate's share by e.
 * Shares plainly proportional to the score would barely move (a provider at 0.7 still drawing 41%
 * against one at 1.0); with 0.1, a provider 0.3 behind draws about 1/20 of its declared share.
 */
export const SCORE_SPREAD = 0.1;

/** A provider's probes and calls in the window (`provider_call_outcomes`, probes included). */
export interface RoutingFigures {
  attempts: number;
  ok: number;
  /** p95 duration of the successful ones, ms; null without any. */
  p95Ms: number | null;
}

/** Health 0..1: the share of probes and calls in the window that succeeded (1 without any). */
export function routingHealthScore(figures: RoutingFigures): number {
  return figures.attempts === 0 ? 1 : figures.ok / figures.attempts;
}

/**
 * Response time 0..1 from the recent p95 against the provider's thresholds: 1 up to
 * `responseTimeWarningMs`, 0 from `responseTimeCriticalMs`, linear in between (1 without a p95).
 */
export function responseTimeScore(p95Ms: number | null, thresholds: Pick<ThresholdsConfig, 'responseTimeWarningMs' | 'responseTimeCriticalMs'>): number {
  if (p95Ms === null || p95Ms <= thresholds.responseTimeWarningMs) return 1;
  if (p95Ms >= thresholds.responseTimeCriticalMs) return 0;
  return (thresholds.responseTimeCriticalMs - p95Ms) / (thresholds.responseTimeCriticalMs - thresholds.responseTimeWarningMs);
}

/** The monitor's formula: 0.7 × health + 0.3 × response time. */
export function routingScore(health: number, responseTime: number): number {
  return HEALTH_WEIGHT * health + RESPONSE_TIME_WEIGHT * responseTime;
}

export interface RoutingCandidate {
  provider: string;
  /** The registry's `failover.weights` share (1 when not declared). */
  declaredWeight: number;
  score: number;
  circuitOpen: boolean;
}

/**
 * Each candidate's chance to be tried first: declaredWeight × e^((score − best) / SCORE_SPREAD),
 * normalised to sum to 1. Equally healthy candidates split by their declared weights; a candidate
 * whose circuit is open gets 0 (it is tried last) unless every circuit is open.
 */
export function routingShares(candidates: readonly RoutingCandidate[]): Map<string, number> {
  const eligible = candidates.some((c) => !c.circuitOpen) ? candidates.filter((c) => !c.circuitOpen) : candidates;
  const best = Math.max(...eligible.map((c) => c.score));
  const weights = new Map(candidates.map((c) => [c.provider, eligible.includes(c) ? c.declaredWeight * Math.exp((c.score - best) / SCORE_SPREAD) : 0]));
  const total = [...weights.values()].reduce((sum, w) => sum + w, 0);
  return new Map([...weights].map(([provider, w]) => [provider, total > 0 ? w / total : 1 / candidates.length]));
}

/** Weighted order without replacement: higher weights tend to come first. */
export function weightedOrder<T>(items: T[], weight: (item: T) => number, random: () => number = Math.random): T[] {
  const pool = [...items];
  const ordered: T[] = [];
  while (pool.length > 0) {
    const total = pool.reduce((sum, item) => sum + weight(item), 0);
    let pick = random() * total;
    let index = 0;
    for (; index < pool.length - 1; index++) {
      pick -= weight(pool[index]!);
      if (pick <= 0) break;
    }
    ordered.push(pool.splice(index, 1)[0]!);
  }
  return ordered;
}

/**
 * The order a weighted call tries its candidates: open circuits last; the others drawn one after
 * another by their shares (a candidate's share among those not drawn yet).
 */
export function routingOrder(candidates: readonly RoutingCandidate[], random: () => number = Math.random): RoutingCandidate[] {
  const shares = routingShares(candidates);
  const closed = candidates.filter((c) => !c.circuitOpen);
  const open = candidates.filter((c) => c.circuitOpen);
  // A share of 0 (underflow far behind the best) still has to be drawable once the others are gone.
  const weightOf = (c: RoutingCandidate): number => Math.max(shares.get(c.provider) ?? 0, Number.MIN_VALUE);
  return [...weightedOrder(closed, weightOf, random), ...weightedOrder(open, (c) => c.declaredWeight, random)];
}
