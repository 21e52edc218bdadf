/**
 * The shape every fake provider module fills in: its routes (method, path, operation name for
 * records and faults, handler) and its own error bodies, so an injected fault looks exactly like
 * that provider's real failure and the adapters' error classification is exercised for real.
 */
import type { ProviderState } from '../state';
import type { FakeResponse, ParsedRequest, ProviderId } from '../types';

export interface Route {
  /** 'ANY' matches every method (the generic httpbin-like echo). */
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'ANY';
  /** Anchored; named groups become the handler's path parameters (URI-decoded). */
  path: RegExp;
  operation: string | ((req: ParsedRequest) => string);
  /** Narrows the match beyond method and path (two providers' probes on one path, told apart by query). */
  accepts?(req: ParsedRequest): boolean;
  handle(req: ParsedRequest, params: Record<string, string>, state: ProviderState): FakeResponse;
}

export interface FaultBodies {
  /** The body of a `status` fault answering `status`. */
  status(status: number): unknown;
  /** The body of a `rate-limit` fault (always 429). */
  rateLimit(): unknown;
  /** Headers a `rate-limit` fault sends besides `Retry-After` (e.g. OpenAI's `x-ratelimit-*`). */
  rateLimitHeaders?(): Record<string, string>;
  /** The body of a `validation` fault (always 400). */
  validation(req: ParsedRequest, operation: string): unknown;
}

export interface ProviderModule {
  id: ProviderId;
  routes: Route[];
  faultBodies: FaultBodies;
  /** The (lower-cased) header carrying the provider's idempotency key; default `idempotency-key` (PayPal: `paypal-request-id`). */
  idempotencyHeader?: string;
}

export function json(status: number, body: unknown, headers?: Record<string, string>): FakeResponse {
  return { status, body, headers };
}
