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
import type { ProviderKind } from '../../lib/config/registry';
import type { ProviderCallContext } from './adapter-types';

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
  /** Selects the error-body format to read the code from; unknown formats are read generically. */
  kind?: ProviderKind;
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
  ctx: Pick<ProviderCallContext, 'provider' | 'operation' | 'credentials'>,
  failure: ProviderRequestFailure,
): ApplicationFailure {
  const base = { provider: ctx.provider.name, kind: ctx.provider.kind, operation: ctx.operation, credentials: ctx.credentials };
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
  const extracted = status === null ? { code: null, message: null } : extractProviderError(input.kind, input.body);
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

interface ExtractedError {
  code: string | null;
  message: string | null;
}

/** Reads the provider's error code and message from its own error-body format. */
export function extractProviderError(kind: ProviderKind | undefined, body: unknown): ExtractedError {
  if (typeof body === 'string') return { code: null, message: body.trim() === '' ? null : body.trim() };
  if (!isRecord(body)) return { code: null, message: null };
  switch (kind) {
    case 'stripe': {
      // {error:{type, code?, decline_code?, message}}: the code names the reason (card_declined),
      // decline_code only refines a card decline, type is the last resort (api_error).
      const error = recordAt(body, 'error');
      return { code: text(error?.code) ?? text(error?.decline_code) ?? text(error?.type), message: text(error?.message) };
    }
    case 'paypal': {
      // REST APIs: {name, message, debug_id, details:[{field, issue, description}]}, the issue
      // naming the reason (INSTRUMENT_DECLINED); OAuth2: {error, error_description}.
      // debug_id is what PayPal support asks for, so it stays in the message.
      const detail = firstRecord(body.details);
      const message = text(detail?.description) ?? text(body.message) ?? text(body.error_description);
      const debugId = text(body.debug_id);
      return {
        code: text(detail?.issue) ?? text(body.name) ?? text(body.error),
        message: debugId ? `${message ?? 'failed'} (debug_id ${debugId})` : message,
      };
    }
    case 'twilio':
      // {code: 21211, message, more_info, status}
      return { code: text(body.code), message: text(body.message) };
    case 'sendgrid': {
      // {errors:[{message, field, help}]}: the field names what was wrong (subject, from, …).
      const first = firstRecord(body.errors);
      return { code: text(first?.field), message: text(first?.message) };
    }
    case 'google-calendar':
    case 'google-sheets': {
      // {error:{code, message, status?, errors:[{domain, reason}]}}; Sheets v4 has no errors[], its status names the reason (INVALID_ARGUMENT)
      const error = recordAt(body, 'error');
      return { code: text(firstRecord(error?.errors)?.reason) ?? text(error?.status), message: text(error?.message) };
    }
    case 'google-maps':
      // Geocoding API: {status: "REQUEST_DENIED", error_message, results: []}, also inside a 200.
      return { code: text(body.status), message: text(body.error_message) };
    case 'yandex-maps':
      // Geocoder: {statusCode: 403, error: "Forbidden", message: "Invalid api key"}.
      return { code: text(body.error), message: text(body.message) };
    case 'vonage-sms': {
      // SMS API: {"error-text"} or {messages:[{status, "error-text"}]}; newer APIs: RFC 7807 {type, title, detail}.
      const message = firstRecord(body.messages);
      return {
        code: text(body['error-text']) ?? text(message?.['error-text']) ?? text(body.title),
        message: text(body.detail) ?? text(body.error),
      };
    }
    default:
      return extractGenericError(body);
  }
}

function extractGenericError(body: Record<string, unknown>): ExtractedError {
  const error = body.error;
  if (isRecord(error)) return { code: text(error.code) ?? text(error.type), message: text(error.message) };
  return { code: text(body.code), message: text(body.message) ?? text(error) ?? text(body.detail) ?? text(body.title) };
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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function recordAt(value: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
  const child = value[key];
  return isRecord(child) ? child : undefined;
}

function firstRecord(value: unknown): Record<string, unknown> | undefined {
  const first: unknown = Array.isArray(value) ? value[0] : undefined;
  return isRecord(first) ? first : undefined;
}

function text(value: unknown): string | null {
  if (typeof value === 'string') return value === '' ? null : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}
