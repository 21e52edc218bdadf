/**
 * Error classification for every provider call (ARCHITECTURE.md "Per-activity policies"), in one
 * place so that every adapter fails the same way: Temporal's retry policy decides from the failure
 * type alone whether another attempt can help, and an operator reads provider, operation, HTTP
 * status and the provider's own error code from the failure without opening logs.
 *
 * - 4xx other than 408/409/429 → `ProviderRejected`, non-retryable: the same request would be
 *   refused again.
 * - 429, and 503 with `Retry-After` → `ProviderThrottled`, retryable, `nextRetryDelay` exactly
 *   the provider's `Retry-After` (a 429 without a usable header keeps the policy's backoff).
 * - other 5xx, 408, 409, timeouts, resets, refused connections → `ProviderUnavailable`,
 *   retryable with the policy's backoff.
 *
 * - no answer because the outbound policy refused the address → `ProviderMisconfigured`,
 *   non-retryable (code `outbound_refused`): the registry entry, not the provider, is wrong.
 *
 * Every client classifies here: the shared HTTP core and the official SDKs (Stripe, Google
 * Sheets) read their failure into a `ProviderRequestFailure` and call `classifyRequestFailure`.
 *
 * Provider answers can echo what they were sent, so every credential value is scrubbed from the
 * message and code before they reach the failure (which Temporal stores in history).
 */
import { ApplicationFailure } from '@temporalio/common';
import { outboundRefusal } from '../../lib/security/outbound-policy';
import type { ProviderCallContext } from './adapter-types';
import { isRecord, readErrorBody, text, type ErrorBodyReader } from './error-body';

import { providerErrorTypes } from '../../contracts/errors';

export { providerErrorTypes };

export type ProviderErrorType = (typeof providerErrorTypes)[keyof typeof providerErrorTypes];

/** The error types a provider call's retry policy must not retry. */
export const nonRetryableProviderErrorTypes: readonly ProviderErrorType[] = [
  providerErrorTypes.rejected,
  providerErrorTypes.invalidRequest,
  providerErrorTypes.misconfigured,
];

/** How a provider request ended, as counted in metrics (see metrics.ts). */
export type ProviderOutcome = 'success' | 'rejected' | 'throttled' | 'unavailable';

/** The single entry of every provider failure's `details`. */
export interface ProviderFailureDetails {
  provider: string;
  operation: string;
  /** HTTP status of the provider's answer; null when there was none (timeout, reset, refused). */
  status: number | null;
  /** The provider's own error code (Stripe `card_declined`, Twilio `21211`, …), when it gave one. */
  code: string | null;
  retryable: boolean;
}

export type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface ProviderErrorInput {
  /** Registry name of the provider (e.g. `stripe`, `backup-sms`): named in message and details. */
  provider: string;
  /** How this provider's failed answers name the reason (its folder's `errorBody`); absent: read generically. */
  errorBody?: ErrorBodyReader;
  operation: string;
  /** HTTP status of the answer; absent for transport failures. */
  status?: number | null;
  headers?: HeaderBag;
  /** Parsed JSON body of the answer, or its text. */
  body?: unknown;
  /** Code and message already extracted (SDK errors, errors reported inside a 2xx answer); they win over the body. */
  code?: string | null;
  message?: string | null;
  /** Overrides the status-based verdict, for providers that report failures inside a 2xx answer (Vonage). */
  outcome?: Exclude<ProviderOutcome, 'success'>;
  /** The transport error when there was no answer (reset, refused, DNS, …). */
  error?: unknown;
  /** The request was abandoned after the provider's timeout. */
  timedOutAfterMs?: number;
  /** Values scrubbed from anything that reaches the failure. */
  credentials?: Readonly<Record<string, string>>;
  /** Clock for HTTP-date `Retry-After` (epoch ms); defaults to now. */
  now?: number;
}

const maxMessageLength = 300;

/** How one provider request failed, read from whichever client sent it (the shared core, an SDK). */
export type ProviderRequestFailure =
  /** The provider answered, with a failure (or with a success the adapter found wanting: `outcome`). */
  | Pick<ProviderErrorInput, 'headers' | 'body' | 'code' | 'message' | 'outcome'> & { status: number }
  /** No answer: the transport error (refused by the outbound policy, reset, DNS, …) or the timeout. */
  | { error: unknown; timedOutAfterMs?: number };

/** The failure one request of `ctx`'s call throws: the single classification of every client. */
export function classifyRequestFailure(
  ctx: Pick<ProviderCallContext, 'provider' | 'operation' | 'credentials' | 'errorBody'>,
  failure: ProviderRequestFailure,
): ApplicationFailure {
  const base = { provider: ctx.provider.name, errorBody: ctx.errorBody, operation: ctx.operation, credentials: ctx.credentials };
  if ('status' in failure) return classifyProviderError({ ...base, ...failure });
  const refused = outboundRefusal(failure.error);
  if (refused) {
    return providerSetupFailure({ provider: base.provider, operation: base.operation, type: providerErrorTypes.misconfigured, code: 'outbound_refused', message: refused.message });
  }
  return classifyProviderError(failure.timedOutAfterMs !== undefined ? { ...base, timedOutAfterMs: failure.timedOutAfterMs } : { ...base, error: failure.error });
}

/** Turns a failed provider request into the `ApplicationFailure` its activity throws. */
export function classifyProviderError(input: ProviderErrorInput): ApplicationFailure {
  const status = input.status ?? null;
  const extracted = status === null ? { code: null, message: null } : readErrorBody(input.errorBody, input.body);
  const scrub = scrubberFor(input.credentials);
  const code = scrubNullable(scrub, input.code !== undefined ? input.code : extracted.code);
  const providerMessage = scrubNullable(scrub, input.message ?? extracted.message ?? transportMessage(input));

  const retryAfterMs = status === null ? null : retryAfterDelayMs(header(input.headers, 'retry-after'), input.now ?? Date.now());
  const outcome = input.outcome ?? outcomeForStatus(status, retryAfterMs);
  const retryable = outcome !== 'rejected';
  const type =
    outcome === 'rejected' ? providerErrorTypes.rejected : outcome === 'throttled' ? providerErrorTypes.throttled : providerErrorTypes.unavailable;

  const head = [status === null ? null : String(status), code].filter((part) => part !== null).join(' ');
  const tail = [head || null, providerMessage].filter((part) => part !== null).join(': ');
  const details: ProviderFailureDetails = { provider: input.provider, operation: input.operation, status, code, retryable };
  return ApplicationFailure.create({
    message: truncate(`${input.provider} ${input.operation}: ${tail || 'failed'}`),
    type,
    nonRetryable: !retryable,
    details: [details],
    nextRetryDelay: outcome === 'throttled' && retryAfterMs !== null ? retryAfterMs : undefined,
  });
}

/** A failure raised before anything was sent (bad params, unknown operation, missing configuration). */
export function providerSetupFailure(input: {
  provider: string;
  operation: string;
  type: typeof providerErrorTypes.invalidRequest | typeof providerErrorTypes.misconfigured;
  code: string;
  message: string;
}): ApplicationFailure {
  const details: ProviderFailureDetails = { provider: input.provider, operation: input.operation, status: null, code: input.code, retryable: false };
  return ApplicationFailure.create({
    message: truncate(`${input.provider} ${input.operation}: ${input.code}: ${input.message}`),
    type: input.type,
    nonRetryable: true,
    details: [details],
  });
}

/** The metrics outcome of a thrown provider failure; anything unclassified counts as unavailable. */
export function providerOutcomeOf(error: unknown): Exclude<ProviderOutcome, 'success'> {
  if (error instanceof ApplicationFailure) {
    if (error.type === providerErrorTypes.rejected) return 'rejected';
    if (error.type === providerErrorTypes.throttled) return 'throttled';
    if (error.type === providerErrorTypes.invalidRequest || error.type === providerErrorTypes.misconfigured) return 'rejected';
  }
  return 'unavailable';
}

/**
 * Google Maps Geocoding API answers most failures inside an HTTP 200, as its `status`: null for
 * OK and ZERO_RESULTS (a successful, possibly empty, answer); OVER_QUERY_LIMIT is throttling
 * (retried with backoff); REQUEST_DENIED (bad or restricted key), INVALID_REQUEST (missing
 * address) and OVER_DAILY_LIMIT (billing, key or self-imposed cap) would be refused again;
 * UNKNOWN_ERROR (Google: "may succeed if you try again") and anything unrecognised are retried.
 */
export function googleMapsStatusOutcome(status: string | null): Exclude<ProviderOutcome, 'success'> | null {
  switch (status) {
    case 'OK':
    case 'ZERO_RESULTS':
      return null;
    case 'OVER_QUERY_LIMIT':
      return 'throttled';
    case 'REQUEST_DENIED':
    case 'INVALID_REQUEST':
    case 'OVER_DAILY_LIMIT':
      return 'rejected';
    default:
      return 'unavailable';
  }
}

function outcomeForStatus(status: number | null, retryAfterMs: number | null): Exclude<ProviderOutcome, 'success'> {
  if (status === null) return 'unavailable';
  if (status === 429) return 'throttled';
  if (status === 503 && retryAfterMs !== null) return 'throttled';
  if (status >= 400 && status < 500 && status !== 408 && status !== 409) return 'rejected';
  // 5xx, 408, 409 and anything unexpected (a 3xx we did not follow, a 2xx the adapter refused):
  // retrying is the safe side, the attempt limit bounds it.
  return 'unavailable';
}

/**
 * `Retry-After` as a delay in ms: delta-seconds or an HTTP-date. Absent, unparseable or past
 * values give null, so the policy's backoff applies rather than an immediate retry storm.
 */
export function retryAfterDelayMs(value: string | undefined, now: number = Date.now()): number | null {
  if (value === undefined) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) {
    const seconds = Number(trimmed);
    return seconds > 0 ? seconds * 1000 : null;
  }
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  const delay = at - now;
  return delay > 0 ? delay : null;
}

function transportMessage(input: ProviderErrorInput): string | null {
  if (input.timedOutAfterMs !== undefined) return `timed out after ${input.timedOutAfterMs} ms`;
  if (input.error === undefined) return null;
  const code = errorCode(input.error);
  const message = input.error instanceof Error ? input.error.message : typeof input.error === 'string' ? input.error : 'transport error';
  return `connection failed${code ? ` (${code})` : ''}: ${message}`;
}

/** Transport error code (ECONNRESET, UND_ERR_SOCKET, …), also when wrapped in `cause` (fetch). */
function errorCode(error: unknown): string | null {
  for (let current: unknown = error, depth = 0; isRecord(current) && depth < 3; current = current.cause, depth++) {
    const code = text(current.code);
    if (code) return code;
  }
  return null;
}

function header(headers: HeaderBag | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const key = Object.keys(headers).find((candidate) => candidate.toLowerCase() === name);
  const value = key === undefined ? undefined : headers[key];
  return typeof value === 'string' ? value : value?.[0];
}

type Scrub = (value: string) => string;

function scrubberFor(credentials: Readonly<Record<string, string>> | undefined): Scrub {
  // Very short values would mangle ordinary words and cannot be real secrets.
  const secrets = Object.values(credentials ?? {})
    .filter((value) => value.length >= 4)
    .flatMap((value) => [value, encodeURIComponent(value)])
    .sort((a, b) => b.length - a.length);
  return (value) => secrets.reduce((scrubbed, secret) => scrubbed.split(secret).join('[redacted]'), value);
}

function scrubNullable(scrub: Scrub, value: string | null): string | null {
  return value === null ? null : scrub(value);
}

function truncate(message: string): string {
  return message.length <= maxMessageLength ? message : `${message.slice(0, maxMessageLength - 1)}…`;
}
