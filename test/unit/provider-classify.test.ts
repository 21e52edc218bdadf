/**
 * Provider error classification decides whether Temporal retries a provider call, when, and what an
 * operator reads in the failure; every branch is pinned here (pure logic, no network).
 */
import { ApplicationFailure } from '@temporalio/common';
import { loadRegistry, type ProviderRegistry } from '../../lib/config/registry';
import { OutboundRefusedError } from '../../lib/security/outbound-policy';
import {
  classifyProviderError,
  classifyRequestFailure,
  nonRetryableProviderErrorTypes,
  providerErrorTypes,
  providerOutcomeOf,
  retryAfterDelayMs,
  type ProviderErrorInput,
  type ProviderFailureDetails,
} from '../../providers/core/classify';
import { fillPath, httpOperation, pathParamProblem, withinDeclaredPath } from '../../providers/http/adapter';
import { adapterFor, prepareProviderCall } from '../../providers/prepare-provider-call';
import { vonageMessageFailure } from '../../providers/vonage-sms/adapter';
import type { ProviderCallContext } from '../../providers/core/adapter-types';
import { sendProviderCall } from '../support/provider-calls';
import { errorBodies, providerErrorBody } from '../../providers';

const now = Date.parse('2030-01-01T12:00:00Z');

function classify(input: Partial<ProviderErrorInput>): ApplicationFailure {
  return classifyProviderError({ provider: 'stripe', errorBody: errorBodies['stripe'], operation: 'createPaymentIntent', now, ...input });
}

function detailsOf(failure: ApplicationFailure): ProviderFailureDetails {
  expect(failure.details).toHaveLength(1);
  return failure.details![0] as ProviderFailureDetails;
}

describe('provider error codes from each provider’s error body', () => {
  test('Stripe: error.code, with the message in the failure message', () => {
    const failure = classify({
      status: 402,
      body: { error: { type: 'card_error', code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' } },
    });
    expect(failure.message).toBe('stripe createPaymentIntent: 402 card_declined: Your card was declined.');
    expect(failure.type).toBe('ProviderRejected');
    expect(failure.nonRetryable).toBe(true);
    expect(detailsOf(failure)).toEqual({ provider: 'stripe', operation: 'createPaymentIntent', status: 402, code: 'card_declined', retryable: false });
  });

  test('Stripe: decline_code when there is no code, then the error type', () => {
    expect(providerErrorBody('stripe', { error: { type: 'card_error', decline_code: 'insufficient_funds' } }).code).toBe('insufficient_funds');
    expect(providerErrorBody('stripe', { error: { type: 'api_error', message: 'boom' } })).toEqual({ code: 'api_error', message: 'boom' });
  });

  test('Twilio: numeric code', () => {
    const failure = classifyProviderError({
      provider: 'twilio',
      errorBody: errorBodies['twilio'],
      operation: 'sendSms',
      status: 400,
      body: { code: 21211, message: "The 'To' number 123 is not a valid phone number.", more_info: 'https://www.twilio.com/docs/errors/21211', status: 400 },
    });
    expect(failure.message).toBe("twilio sendSms: 400 21211: The 'To' number 123 is not a valid phone number.");
    expect(detailsOf(failure).code).toBe('21211');
    expect(failure.nonRetryable).toBe(true);
  });

  test('SendGrid: errors[0].field and errors[0].message', () => {
    const failure = classifyProviderError({
      provider: 'sendgrid',
      errorBody: errorBodies['sendgrid'],
      operation: 'sendMail',
      status: 400,
      body: { errors: [{ message: 'The subject is required.', field: 'subject', help: 'http://sendgrid.com/docs' }] },
    });
    expect(failure.message).toBe('sendgrid sendMail: 400 subject: The subject is required.');
    expect(detailsOf(failure).code).toBe('subject');
    // A field-less error (401) has no code, only the message.
    const unauthorized = classifyProviderError({
      provider: 'sendgrid',
      errorBody: errorBodies['sendgrid'],
      operation: 'sendMail',
      status: 401,
      body: { errors: [{ message: 'The provided authorization grant is invalid, expired, or revoked', field: null, help: null }] },
    });
    expect(unauthorized.message).toBe('sendgrid sendMail: 401: The provided authorization grant is invalid, expired, or revoked');
    expect(detailsOf(unauthorized).code).toBeNull();
  });

  test('Google: error.errors[0].reason, else error.status', () => {
    const failure = classifyProviderError({
      provider: 'google-calendar',
      errorBody: errorBodies['google-calendar'],
      operation: 'insertEvent',
      status: 400,
      body: { error: { code: 400, message: 'Invalid resource id value.', errors: [{ domain: 'global', reason: 'invalid' }] } },
    });
    expect(failure.message).toBe('google-calendar insertEvent: 400 invalid: Invalid resource id value.');
    expect(detailsOf(failure).code).toBe('invalid');
    expect(providerErrorBody('google-calendar', { error: { code: 401, message: 'x', status: 'UNAUTHENTICATED' } }).code).toBe('UNAUTHENTICATED');
  });

  test('Vonage: error-text, top level or per message', () => {
    expect(providerErrorBody('vonage-sms', { 'error-text': 'Bad Credentials' }).code).toBe('Bad Credentials');
    expect(providerErrorBody('vonage-sms', { messages: [{ status: '2', 'error-text': 'Missing to param' }] }).code).toBe('Missing to param');
    expect(providerErrorBody('vonage-sms', { error: 'rate limited' })).toEqual({ code: null, message: 'rate limited' });
  });

  test('Vonage in-200 failures: the adapter’s verdict wins over the status', () => {
    const base = { provider: 'backup-sms', errorBody: errorBodies['vonage-sms'], operation: 'sendSms', status: 200 };
    const rejected = classifyProviderError({ ...base, outcome: 'rejected', code: 'Bad Credentials', message: 'Vonage message status 4' });
    expect(rejected.type).toBe('ProviderRejected');
    expect(rejected.nonRetryable).toBe(true);
    expect(rejected.message).toBe('backup-sms sendSms: 200 Bad Credentials: Vonage message status 4');
    const throttled = classifyProviderError({ ...base, outcome: 'throttled', code: 'Throttled', message: 'Vonage message status 1' });
    expect(throttled.type).toBe('ProviderThrottled');
    expect(throttled.nonRetryable).toBe(false);
    expect(throttled.nextRetryDelay).toBeUndefined();
    expect(detailsOf(throttled)).toEqual({ provider: 'backup-sms', operation: 'sendSms', status: 200, code: 'Throttled', retryable: true });
  });

  test('Vonage answers: status "0" parts are sent, "1" throttled, anything else rejected with error-text', () => {
    const answer = (messages: unknown) => ({ status: 200, headers: {}, body: { 'message-count': '1', messages } });
    expect(vonageMessageFailure(answer([{ status: '0', 'message-id': 'abc' }, { status: '0', 'message-id': 'abd' }]))).toBeNull();
    expect(vonageMessageFailure(answer([{ status: '1', 'error-text': 'Throttled' }]))).toMatchObject({ outcome: 'throttled', code: 'Throttled' });
    expect(vonageMessageFailure(answer([{ status: '0' }, { status: '4', 'error-text': 'Bad Credentials' }]))).toMatchObject({
      outcome: 'rejected',
      code: 'Bad Credentials',
    });
    expect(vonageMessageFailure(answer([]))).toMatchObject({ outcome: 'unavailable' });
  });

  test('generic bodies: {error:{code,message}}, {code,message}, {error:"…"} and plain text', () => {
    expect(providerErrorBody('http', { error: { code: 'quota', message: 'over quota' } })).toEqual({ code: 'quota', message: 'over quota' });
    expect(providerErrorBody('http', { code: 'E42', message: 'nope' })).toEqual({ code: 'E42', message: 'nope' });
    expect(providerErrorBody('http', { error: 'rate limited' })).toEqual({ code: null, message: 'rate limited' });
    expect(providerErrorBody(undefined, 'Bad Gateway')).toEqual({ code: null, message: 'Bad Gateway' });
    expect(providerErrorBody('http', null)).toEqual({ code: null, message: null });
    const failure = classifyProviderError({ provider: 'httpbin', errorBody: undefined, operation: 'getAnything', status: 502, body: 'Bad Gateway' });
    expect(failure.message).toBe('httpbin getAnything: 502: Bad Gateway');
  });

  test('a code given by the caller (SDK errors) wins over the body', () => {
    const failure = classify({ status: 402, code: 'card_declined', message: 'Your card was declined.', body: { error: { code: 'other' } } });
    expect(detailsOf(failure).code).toBe('card_declined');
  });
});

describe('one classification for every client (the core and the SDK adapters)', () => {
  const registry = loadRegistry({});
  const call = { provider: registry.stripe!, operation: 'createPaymentIntent', credentials: { apiKey: 'sk_test_secret_value' } };

  test('an answer is classified by status, with the provider kind’s body format and the credentials scrubbed', () => {
    const failure = classifyRequestFailure(call, { status: 402, body: { error: { code: 'card_declined', message: 'declined for sk_test_secret_value' } } });
    expect(failure).toMatchObject({ type: 'ProviderRejected', nonRetryable: true, message: 'stripe createPaymentIntent: 402 card_declined: declined for [redacted]' });
    expect(classifyRequestFailure(call, { status: 429, headers: { 'retry-after': '2' } })).toMatchObject({ type: 'ProviderThrottled', nextRetryDelay: 2000 });
  });

  test('no answer: a refusal of the outbound policy is configuration, a timeout and a reset are retried', () => {
    const refused = new TypeError('fetch failed', { cause: new OutboundRefusedError('127.0.0.1 is a loopback address') });
    expect(classifyRequestFailure(call, { error: refused })).toMatchObject({
      type: 'ProviderMisconfigured',
      nonRetryable: true,
      details: [expect.objectContaining({ code: 'outbound_refused' })],
    });
    expect(classifyRequestFailure(call, { error: new Error('aborted'), timedOutAfterMs: 300 })).toMatchObject({
      type: 'ProviderUnavailable',
      nonRetryable: false,
      message: 'stripe createPaymentIntent: timed out after 300 ms',
    });
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(classifyRequestFailure(call, { error: reset })).toMatchObject({ type: 'ProviderUnavailable', message: 'stripe createPaymentIntent: connection failed (ECONNRESET): socket hang up' });
  });
});

describe('status classification', () => {
  test.each([400, 401, 402, 403, 404, 410, 422])('%i is rejected and not retryable', (status) => {
    const failure = classify({ status, body: { error: { code: 'x', message: 'm' } } });
    expect(failure.type).toBe(providerErrorTypes.rejected);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.nextRetryDelay).toBeUndefined();
    expect(detailsOf(failure).retryable).toBe(false);
  });

  test.each([408, 409, 500, 502, 503, 504])('%i without Retry-After is unavailable and retryable with the policy backoff', (status) => {
    const failure = classify({ status, body: { error: { type: 'api_error', message: 'm' } } });
    expect(failure.type).toBe(providerErrorTypes.unavailable);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBeUndefined();
    expect(detailsOf(failure)).toMatchObject({ status, retryable: true });
  });

  test('429 with Retry-After in seconds is throttled with exactly that delay', () => {
    const failure = classify({ status: 429, headers: { 'retry-after': '7' }, body: { error: { type: 'rate_limit_error', code: 'rate_limit', message: 'Too many requests' } } });
    expect(failure.type).toBe('ProviderThrottled');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBe(7000);
    expect(detailsOf(failure)).toEqual({ provider: 'stripe', operation: 'createPaymentIntent', status: 429, code: 'rate_limit', retryable: true });
  });

  test('503 with Retry-After as an HTTP-date is throttled until that date', () => {
    const failure = classify({ status: 503, headers: { 'Retry-After': new Date(now + 90_000).toUTCString() } });
    expect(failure.type).toBe('ProviderThrottled');
    expect(failure.nextRetryDelay).toBe(90_000);
  });

  test('a header given as an array (repeated) uses the first value', () => {
    expect(classify({ status: 429, headers: { 'retry-after': ['3', '9'] } }).nextRetryDelay).toBe(3000);
  });

  test('429 without a usable Retry-After is throttled but keeps the policy backoff', () => {
    expect(classify({ status: 429 }).type).toBe('ProviderThrottled');
    expect(classify({ status: 429 }).nextRetryDelay).toBeUndefined();
    expect(classify({ status: 429, headers: { 'retry-after': 'soon' } }).nextRetryDelay).toBeUndefined();
  });

  test('503 with a past or zero Retry-After is plain unavailable', () => {
    expect(classify({ status: 503, headers: { 'retry-after': new Date(now - 5000).toUTCString() } }).type).toBe('ProviderUnavailable');
    expect(classify({ status: 503, headers: { 'retry-after': '0' } }).type).toBe('ProviderUnavailable');
  });

  test('retryAfterDelayMs parses delta-seconds and HTTP-dates', () => {
    expect(retryAfterDelayMs('120', now)).toBe(120_000);
    expect(retryAfterDelayMs(' 2 ', now)).toBe(2000);
    expect(retryAfterDelayMs('Tue, 01 Jan 2030 12:00:05 GMT', now)).toBe(5000);
    expect(retryAfterDelayMs(undefined, now)).toBeNull();
    expect(retryAfterDelayMs('-1', now)).toBeNull();
    expect(retryAfterDelayMs('1.5', now)).toBeNull();
  });
});

describe('transport failures', () => {
  function networkError(code: string, message: string): Error {
    return Object.assign(new Error(message), { code });
  }

  test.each([
    ['ECONNRESET', 'socket hang up'],
    ['ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:9'],
    ['UND_ERR_SOCKET', 'other side closed'],
    ['ENOTFOUND', 'getaddrinfo ENOTFOUND api.example.com'],
  ])('%s is unavailable and retryable, with no status', (code, message) => {
    const failure = classify({ error: networkError(code, message) });
    expect(failure.type).toBe('ProviderUnavailable');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBeUndefined();
    expect(failure.message).toBe(`stripe createPaymentIntent: connection failed (${code}): ${message}`);
    expect(detailsOf(failure)).toEqual({ provider: 'stripe', operation: 'createPaymentIntent', status: null, code: null, retryable: true });
  });

  test('a code wrapped in cause (fetch’s TypeError) is found', () => {
    const failure = classify({ error: new TypeError('fetch failed', { cause: networkError('ECONNRESET', 'read ECONNRESET') }) });
    expect(failure.message).toBe('stripe createPaymentIntent: connection failed (ECONNRESET): fetch failed');
  });

  test('a timeout is unavailable and says how long it waited', () => {
    const failure = classify({ timedOutAfterMs: 2500 });
    expect(failure.type).toBe('ProviderUnavailable');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toBe('stripe createPaymentIntent: timed out after 2500 ms');
    expect(detailsOf(failure).status).toBeNull();
  });
});

describe('credentials never reach the failure', () => {
  const credentials = { apiKey: 'sk_test_SECRET1234567890', authToken: 'tok/with+special=chars' };

  function serialized(failure: ApplicationFailure): string {
    return `${failure.message}\n${JSON.stringify(failure.details)}`;
  }

  test('echoed in a provider message or code', () => {
    const failure = classify({
      status: 401,
      credentials,
      body: { error: { type: 'invalid_request_error', code: `bad_key_${credentials.apiKey}`, message: `Invalid API Key provided: ${credentials.apiKey}` } },
    });
    expect(serialized(failure)).not.toContain(credentials.apiKey);
    expect(failure.message).toContain('[redacted]');
  });

  test('URL-encoded in a text body', () => {
    const failure = classify({ status: 400, credentials, body: `token=${encodeURIComponent(credentials.authToken)} rejected` });
    expect(serialized(failure)).not.toContain(encodeURIComponent(credentials.authToken));
    expect(serialized(failure)).not.toContain(credentials.authToken);
  });

  test('in a transport error message', () => {
    const failure = classify({ credentials, error: new Error(`connect failed for https://user:${credentials.authToken}@example.com`) });
    expect(serialized(failure)).not.toContain(credentials.authToken);
  });

  test('in a message given by the caller', () => {
    const failure = classify({ status: 401, credentials, code: 'auth', message: `key ${credentials.apiKey} revoked` });
    expect(serialized(failure)).not.toContain(credentials.apiKey);
  });
});

describe('error types for policies and metrics', () => {
  test('type names are stable and the non-retryable ones are listed', () => {
    expect(providerErrorTypes).toEqual({
      rejected: 'ProviderRejected',
      throttled: 'ProviderThrottled',
      unavailable: 'ProviderUnavailable',
      invalidRequest: 'ProviderRequestInvalid',
      misconfigured: 'ProviderMisconfigured',
    });
    expect([...nonRetryableProviderErrorTypes].sort()).toEqual(['ProviderMisconfigured', 'ProviderRejected', 'ProviderRequestInvalid']);
  });

  test('metrics outcome of a failure', () => {
    expect(providerOutcomeOf(classify({ status: 400 }))).toBe('rejected');
    expect(providerOutcomeOf(classify({ status: 429 }))).toBe('throttled');
    expect(providerOutcomeOf(classify({ status: 500 }))).toBe('unavailable');
    expect(providerOutcomeOf(new Error('anything else'))).toBe('unavailable');
  });

  test('long provider messages are truncated', () => {
    const failure = classify({ status: 500, body: 'x'.repeat(5000) });
    expect(failure.message.length).toBeLessThanOrEqual(300);
  });
});

describe('failures before anything is sent', () => {
  const registry = loadRegistry({});
  const ctx = (provider: string, operation: string): ProviderCallContext => ({
    provider: registry[provider]!,
    operation,
    credentials: {},
    idempotencyKey: 'k',
  });

  test('adapterFor knows each kind’s operations and the registry’s http operations', () => {
    expect(adapterFor(registry.stripe!, 'createPaymentIntent')).toBeDefined();
    expect(adapterFor(registry['backup-sms']!, 'sendSms')).toBeDefined();
    expect(adapterFor(registry.httpbin!, 'getAnything')).toBeDefined();
    expect(adapterFor(registry.httpbin!, 'deleteAnything')).toBeUndefined();
    expect(adapterFor(registry.stripe!, 'toString')).toBeUndefined();
  });

  test('unknown operation and invalid params are non-retryable UnknownOperation and InvalidCallParams', async () => {
    await expect(sendProviderCall(ctx('stripe', 'launchRocket'), {})).rejects.toMatchObject({
      type: 'UnknownOperation',
      nonRetryable: true,
    });
    const invalid = sendProviderCall(ctx('stripe', 'createPaymentIntent'), { amount: -1, currency: 'usd' });
    await expect(invalid).rejects.toMatchObject({ type: 'InvalidCallParams', nonRetryable: true, details: [expect.objectContaining({ code: 'invalid_params' })] });
    await expect(invalid).rejects.toThrow(/amount/);
  });

  test('the entry point looks up own registry entries only, and says what it could not find', () => {
    const thrownBy = (reg: ProviderRegistry, provider: string, operation: string): unknown => {
      try {
        prepareProviderCall(reg, { provider, operation, params: {} });
      } catch (error) {
        return error;
      }
      throw new Error(`expected ${provider} ${operation} to be refused`);
    };
    expect(thrownBy(registry, 'nope', 'createPaymentIntent')).toMatchObject({ type: 'UnknownProvider', nonRetryable: true, message: 'unknown provider "nope"' });
    expect(thrownBy(registry, 'toString', 'createPaymentIntent')).toMatchObject({ type: 'UnknownProvider' });
    expect(thrownBy(registry, 'stripe', 'toString')).toMatchObject({ type: 'UnknownOperation', message: 'stripe has no operation "toString"' });
    expect(thrownBy(registry, 'httpbin', 'deleteAnything')).toMatchObject({ type: 'UnknownOperation', details: [{ provider: 'httpbin', operation: 'deleteAnything', status: null, code: 'unknown_operation', retryable: false }] });
    // Declared in the registry, but no adapter can do it.
    const stripe = registry.stripe!;
    const declaredOnly = { stripe: { ...stripe, operations: { ...stripe.operations, launchRocket: { costUsd: 0, failoverCapable: false, batchEndpoint: false } } } };
    expect(thrownBy(declaredOnly, 'stripe', 'launchRocket')).toMatchObject({ type: 'UnknownOperation' });
    const call = prepareProviderCall(registry, { provider: 'stripe', operation: 'createPaymentIntent', params: { amount: 100, currency: 'USD' } });
    expect(call).toMatchObject({ provider: stripe, operation: 'createPaymentIntent', declared: stripe.operations.createPaymentIntent });
    // The parsed params: what the cache key and the adapter see.
    expect(call.params).toEqual({ amount: 100, currency: 'usd' });
  });

  test('a missing credential is non-retryable ProviderMisconfigured naming the variable, not a value', async () => {
    const failure = sendProviderCall(ctx('twilio', 'sendSms'), { to: '+14155550100', body: 'hi' });
    await expect(failure).rejects.toMatchObject({ type: 'ProviderMisconfigured', nonRetryable: true });
    await expect(failure).rejects.toThrow(/TWILIO_ACCOUNT_SID/);
  });

  test('http path placeholders are URL-encoded and required', () => {
    const call = ctx('httpbin', 'getAnything');
    expect(fillPath(call, '/anything/{id}', { id: 'a b?c#d' })).toBe('/anything/a%20b%3Fc%23d');
    expect(() => fillPath(call, '/anything/{id}', {})).toThrow(ApplicationFailure);
  });

  // Issue 17, point 5: {"id": ".."} was sent as GET / with the provider's credentials.
  const escaping = ['.', '..', 'a/b', '/', 'a\\b', '%2e', '%2E%2e', '.%2E', '%2F', 'x%2fy', '%5c', '%5C..', '%252e%252e', '%25252F', '..%2f..'];
  test.each(escaping)('http path parameter %j is refused by the params schema and by the adapter, non-retryably', async (id) => {
    expect(pathParamProblem(id)).not.toBeNull();
    const call = ctx('httpbin', 'getAnything');
    expect(adapterFor(call.provider, 'getAnything')!.params.safeParse({ pathParams: { id } }).success).toBe(false);
    await expect(sendProviderCall(call, { pathParams: { id } })).rejects.toMatchObject({
      type: 'InvalidCallParams',
      nonRetryable: true,
      details: [expect.objectContaining({ code: 'invalid_params' })],
    });
    // Past the schema (defence in depth): the adapter itself refuses before sending.
    let thrown: unknown;
    try {
      fillPath(call, '/anything/{id}', { id });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ type: 'ProviderRequestInvalid', nonRetryable: true });
    await expect(httpOperation.run({ pathParams: { id } }, call)).rejects.toMatchObject({ nonRetryable: true, details: [expect.objectContaining({ code: 'invalid_path_param' })] });
  });

  test.each(['x', 'a.b', '...', '.x', 'x..', '%41', 'caf\u00e9', '%2', '%'])('http path parameter %j is one segment and allowed', (id) => {
    expect(pathParamProblem(id)).toBeNull();
  });

  test("an http operation's params name every placeholder of its path (the API's 400, not a failed call)", () => {
    const getAnything = adapterFor(registry.httpbin!, 'getAnything')!;
    expect(getAnything.params.safeParse({}).error?.issues.map((i) => i.path.join('.'))).toEqual(['pathParams.id']);
    expect(getAnything.params.safeParse({ pathParams: { other: 'x' } }).success).toBe(false);
    expect(getAnything.params.safeParse({ pathParams: { id: 'x' } }).success).toBe(true);
    expect(adapterFor(registry.httpbin!, 'postAnything')!.params.safeParse({}).success).toBe(true);
  });

  test('the filled path must stay under the declared path once resolved against the base URL', () => {
    expect(withinDeclaredPath('https://h.example', '/anything/{id}', '/anything/x')).toBe(true);
    expect(withinDeclaredPath('https://h.example/v1/', '/anything/{id}', '/anything/x')).toBe(true);
    expect(withinDeclaredPath('https://h.example', '/anything', '/anything')).toBe(true);
    expect(withinDeclaredPath('https://h.example', '/anything/{id}', '/anything/..')).toBe(false);
    expect(withinDeclaredPath('https://h.example/v1', '/anything/{id}/x', '/anything/%2e%2e/x')).toBe(false);
    expect(withinDeclaredPath('https://h.example', '/a/{x}/b', '/a/../b')).toBe(false);
  });
});
