/**
 * The one HTTP path every non-SDK provider adapter takes, so that connection reuse, timeouts,
 * idempotency keys, error classification and metrics are done once and identically:
 * - keep-alive pooling over one undici `Agent` per provider (http-pool.ts: a worker makes many
 *   small calls to few hosts; a fresh TLS handshake per call would dominate their latency), sized
 *   by the provider's registry `http` settings, HTTP/2 where the provider is declared `allowH2`
 *   and offers it;
 * - answers are asked for gzip (`Accept-Encoding: gzip`) and decoded here; request bodies are
 *   gzipped only for providers declared `gzipRequests` (the receiving side must accept them);
 * - the provider's `timeoutMs` bounds the whole exchange (headers and body), and the activity's
 *   cancellation signal aborts it as well;
 * - every POST carries `Idempotency-Key` = the call's key, stable across retries, so a retried
 *   attempt whose first answer was lost never acts twice;
 * - any non-2xx answer (unless the adapter expects it) and any transport failure is thrown as a
 *   classified `ApplicationFailure` (classify.ts); the adapters over an official SDK (Stripe,
 *   Google Sheets) send through `sdkProviderRequest`, which measures, cancels and classifies their
 *   requests the same way, and hand their SDK the provider's pool as its fetch (http-pool.ts).
 * - every connection goes through the context's outbound policy (lib/security/outbound-policy.ts): an
 *   address the base URL resolves to that is loopback, private, metadata, … is refused at connect
 *   time (non-retryable `ProviderMisconfigured`, code `outbound_refused`); redirects are never
 *   followed (undici's default), so a 3xx is an answer, not a hop.
 * Nothing here logs; credentials only travel in the headers/body the adapter hands over.
 */
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { request } from 'undici';
import { strictOutboundPolicy } from '../../lib/security/outbound-policy';
import { classifyRequestFailure, providerErrorTypes, providerSetupFailure, type ProviderErrorInput, type ProviderRequestFailure } from './classify';
import { closeProviderPools, compressedBodies, providerDispatcher } from './http-pool';
import { measureProviderRequest } from './metrics';
import type { ProviderCallContext } from './adapter-types';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type QueryValue = string | number | boolean | undefined;
export type FormValue = string | number | undefined | readonly string[];

export interface ProviderRequestOptions {
  ctx: ProviderCallContext;
  method: HttpMethod;
  /** Appended to `ctx.provider.baseUrl` (or the named host's); starts with "/" and is already URL-encoded. */
  path: string;
  /** One of the provider's registry `hosts` (e.g. Twilio's `notify`); the base URL when absent. */
  host?: string;
  query?: Readonly<Record<string, QueryValue>>;
  headers?: Readonly<Record<string, string>>;
  /** Sent as `application/json`. */
  json?: unknown;
  /** Sent as `application/x-www-form-urlencoded`; undefined fields are left out, arrays repeat the key. */
  form?: Readonly<Record<string, FormValue>>;
  /** Non-2xx statuses the adapter handles itself (e.g. 409 duplicate, 410 gone): returned, counted as success. */
  expect?: readonly number[];
  /**
   * For failures inside an accepted answer (Vonage's in-200 statuses, a 409 that is not ours):
   * returns null for a success, else what to classify (`{}` = classify by status as usual).
   * Checked inside the measured request so metrics count it right.
   */
  failureIn?: (response: ProviderResponse) => Pick<ProviderErrorInput, 'outcome' | 'code' | 'message'> | null;
  /**
   * For failed (non-2xx) answers whose status alone does not say whether a retry can help (the
   * Graph API answers WhatsApp's throughput limit 130429 with a 400): the verdict its error code
   * gives, or null to classify by status as usual.
   */
  failureOutcome?: (response: ProviderResponse) => Pick<ProviderErrorInput, 'outcome'> | null;
}

export interface ProviderResponse {
  status: number;
  /** Lower-cased names; repeated headers joined with ", ". */
  headers: Readonly<Record<string, string>>;
  /** Parsed JSON when the answer says JSON, its text otherwise; null when empty. */
  body: unknown;
}

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** A decoded answer larger than this is refused (a gzip bomb must not exhaust the worker's memory). */
export const maxDecodedAnswerBytes = 16 * 1024 * 1024;

/** Closes pooled connections (worker shutdown, end of tests); the next request opens a new pool. */
export async function closeProviderConnections(): Promise<void> {
  await closeProviderPools();
}

/** Sends one provider request; resolves with 2xx (or expected) answers, throws classified failures otherwise. */
export function providerRequest(options: ProviderRequestOptions): Promise<ProviderResponse> {
  const { ctx } = options;
  return measureProviderRequest({ provider: ctx.provider.name, operation: ctx.operation }, (error) => isCancellation(ctx, error), () => send(options));
}

/**
 * Sends one request of an adapter over an official SDK (Stripe, Google Sheets) under the core's
 * contract: counted in the metrics, the activity's cancellation surfaced as such, and any other
 * failure classified by classify.ts from what `readFailure` reads out of the SDK's error (an
 * `ApplicationFailure` it returns is taken as already classified).
 */
export function sdkProviderRequest<T>(
  ctx: ProviderCallContext,
  sendRequest: () => Promise<T>,
  readFailure: (error: unknown) => ProviderRequestFailure | ApplicationFailure,
): Promise<T> {
  return measureProviderRequest(
    { provider: ctx.provider.name, operation: ctx.operation },
    (error) => isCancellation(ctx, error),
    async () => {
      if (ctx.signal?.aborted) throw cancellation(ctx.signal);
      try {
        return await sendRequest();
      } catch (error) {
        if (ctx.signal?.aborted) throw cancellation(ctx.signal);
        const failure = readFailure(error);
        throw failure instanceof ApplicationFailure ? failure : classifyRequestFailure(ctx, failure);
      }
    },
  );
}

/** A cancelled activity says nothing about the provider's health: not counted. */
function isCancellation(ctx: ProviderCallContext, error: unknown): boolean {
  return error instanceof CancelledFailure || ctx.signal?.aborted === true;
}

export function buildProviderUrl(baseUrl: string, path: string, query?: Readonly<Record<string, QueryValue>>): URL {
  const url = new URL(`${baseUrl.replace(/\/+$/, '')}${path}`);
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined) url.searchParams.append(name, String(value));
  }
  return url;
}

async function send(options: ProviderRequestOptions): Promise<ProviderResponse> {
  const { ctx } = options;
  if (ctx.signal?.aborted) throw cancellation(ctx.signal);
  const url = buildProviderUrl(hostUrl(ctx, options.host), options.path, options.query);
  const headers: Record<string, string> = { accept: 'application/json', 'accept-encoding': 'gzip', 'user-agent': 'switchyard' };
  for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;
  let text: string | undefined;
  if (options.json !== undefined) {
    text = JSON.stringify(options.json);
    headers['content-type'] = 'application/json';
  } else if (options.form !== undefined) {
    text = formEncode(options.form);
    headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  let body: string | Buffer | undefined = text;
  const { http } = ctx.provider;
  if (text !== undefined && http.gzipRequests && Buffer.byteLength(text) >= http.gzipMinBytes) {
    body = await gzipAsync(text);
    headers['content-encoding'] = 'gzip';
    compressedBodies.inc({ provider: ctx.provider.name, direction: 'request' });
  }
  if (options.method === 'POST') headers['idempotency-key'] = ctx.idempotencyKey;

  const timeoutMs = ctx.provider.timeoutMs;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`timed out after ${timeoutMs} ms`));
  }, timeoutMs);
  const onCancel = () => controller.abort(ctx.signal?.reason);
  ctx.signal?.addEventListener('abort', onCancel, { once: true });

  let response: ProviderResponse;
  try {
    const answer = await request(url, {
      method: options.method,
      headers,
      body,
      signal: controller.signal,
      dispatcher: providerDispatcher(ctx.provider, ctx.outbound ?? strictOutboundPolicy),
    });
    // The body is read under the same timeout: a provider that stalls mid-body is as unavailable as one that never answers.
    const responseHeaders = flattenHeaders(answer.headers);
    const raw = await decodedText(Buffer.from(await answer.body.arrayBuffer()), responseHeaders['content-encoding'], ctx.provider.name);
    response = { status: answer.statusCode, headers: responseHeaders, body: parseBody(raw, responseHeaders['content-type']) };
  } catch (error) {
    if (ctx.signal?.aborted) throw cancellation(ctx.signal);
    throw classifyRequestFailure(ctx, timedOut ? { error, timedOutAfterMs: timeoutMs } : { error });
  } finally {
    clearTimeout(timer);
    ctx.signal?.removeEventListener('abort', onCancel);
  }

  const ok = (response.status >= 200 && response.status < 300) || (options.expect?.includes(response.status) ?? false);
  const answered = { status: response.status, headers: response.headers, body: response.body };
  if (!ok) throw classifyRequestFailure(ctx, { ...answered, ...(options.failureOutcome?.(response) ?? {}) });
  const reported = options.failureIn?.(response);
  if (reported) throw classifyRequestFailure(ctx, { ...answered, ...reported });
  return response;
}

function hostUrl(ctx: ProviderCallContext, host: string | undefined): string {
  if (host === undefined) return ctx.provider.baseUrl;
  const url = Object.hasOwn(ctx.provider.hosts, host) ? ctx.provider.hosts[host] : undefined;
  if (url) return url;
  throw providerSetupFailure({
    provider: ctx.provider.name,
    operation: ctx.operation,
    type: providerErrorTypes.misconfigured,
    code: 'missing_host',
    message: `the registry entry has no "${host}" host`,
  });
}

function formEncode(form: Readonly<Record<string, FormValue>>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(form)) {
    if (value === undefined) continue;
    for (const one of typeof value === 'object' ? value : [String(value)]) params.append(name, one);
  }
  return params.toString();
}

function flattenHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

/** The answer's text: gunzipped when it says gzip (what we asked for); any other coding is read as is. */
async function decodedText(bytes: Buffer, contentEncoding: string | undefined, provider: string): Promise<string> {
  const coding = contentEncoding?.trim().toLowerCase();
  if ((coding !== 'gzip' && coding !== 'x-gzip') || bytes.length === 0) return bytes.toString('utf8');
  compressedBodies.inc({ provider, direction: 'response' });
  return (await gunzipAsync(bytes, { maxOutputLength: maxDecodedAnswerBytes })).toString('utf8');
}

function parseBody(raw: string, contentType: string | undefined): unknown {
  if (raw === '') return null;
  if (contentType !== undefined && /\bjson\b/i.test(contentType)) {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      // A provider that labels a broken body as JSON: keep the text so the error message shows it.
      return raw;
    }
  }
  return raw;
}

/** The activity was cancelled: surface Temporal's own cancellation, not a provider failure. */
export function cancellation(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new CancelledFailure('provider request cancelled');
}

/** A credential the adapter cannot work without; its absence is configuration, not a provider failure. */
export function requireCredential(ctx: ProviderCallContext, field: string): string {
  const value = ctx.credentials[field];
  if (value) return value;
  const variable = ctx.provider.credentials[field];
  throw providerSetupFailure({
    provider: ctx.provider.name,
    operation: ctx.operation,
    type: providerErrorTypes.misconfigured,
    code: 'missing_credential',
    message: `credential "${field}" is not set${variable ? ` (environment variable ${variable})` : ''}`,
  });
}

/**
 * Reads one string (or number, as a string) from an answer's body, or null. Adapters read
 * answers leniently: once a provider has acted, an unexpected shape must not fail the call (a
 * retry could act twice); the caller gets what could be read.
 */
export function answerField(body: unknown, ...path: readonly (string | number)[]): string | null {
  let current: unknown = body;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return null;
    current = (current as Record<string | number, unknown>)[key];
  }
  if (typeof current === 'string') return current;
  if (typeof current === 'number' && Number.isFinite(current)) return String(current);
  return null;
}
