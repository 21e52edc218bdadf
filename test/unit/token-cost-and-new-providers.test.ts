/**
 * Pure logic of the token-priced cost (providers/core/token-cost.ts, the OpenAI estimate), and of
 * the Airtable and Google My Business folders: their registry defaults, params (hostile names
 * refused) and error bodies classified as retryable or not. No network.
 */
import { loadRegistry, parseRegistry } from '../../lib/config/registry';
import { providerErrorTypes, classifyProviderError } from '../../providers/core/classify';
import { tokenCostUsd, tokenPriceOf, tokenPricingOf } from '../../providers/core/token-cost';
import { errorBodies, providerErrorBody } from '../../providers';
import { adapterFor, prepareProviderCall } from '../../providers/prepare-provider-call';
import { defaultCompletionTokenEstimate } from '../../providers/openai/adapter';

const registry = loadRegistry({});

describe('token-priced cost', () => {
  const chat = registry.openai!.operations.createChatCompletion!;
  const adapter = adapterFor(registry.openai!, 'createChatCompletion')!;

  test('tokens × per-1K prices, to the ledger’s 6 decimals', () => {
    expect(tokenCostUsd({ promptPer1kUsd: 0.0025, completionPer1kUsd: 0.01 }, { promptTokens: 1000, completionTokens: 500 })).toBe(0.0075);
    expect(tokenCostUsd({ promptPer1kUsd: 0.00015, completionPer1kUsd: 0.0006 }, { promptTokens: 7, completionTokens: 3 })).toBe(0.000003);
  });

  test('prices are looked up by own model names only', () => {
    expect(tokenPriceOf(chat, 'gpt-4o-mini')).toEqual({ promptPer1kUsd: 0.00015, completionPer1kUsd: 0.0006 });
    for (const model of ['constructor', '__proto__', 'toString', 'gpt-unknown']) expect(tokenPriceOf(chat, model)).toBeUndefined();
  });

  test('the estimate: prompt bytes / 3 + 4 per message + 3, and maxCompletionTokens (or the default)', () => {
    const params = adapter.params.parse({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x'.repeat(300) }], maxCompletionTokens: 100 });
    expect(tokenPricingOf(chat, adapter, params)).toEqual({
      model: 'gpt-4o',
      price: { promptPer1kUsd: 0.0025, completionPer1kUsd: 0.01 },
      estimateUsd: tokenCostUsd({ promptPer1kUsd: 0.0025, completionPer1kUsd: 0.01 }, { promptTokens: 107, completionTokens: 100 }),
    });
    const open = adapter.params.parse({ messages: [{ role: 'user', content: 'hi' }] });
    expect(tokenPricingOf(chat, adapter, open)).toMatchObject({
      estimateUsd: tokenCostUsd({ promptPer1kUsd: 0.00015, completionPer1kUsd: 0.0006 }, { promptTokens: 8, completionTokens: defaultCompletionTokenEstimate }),
    });
  });

  test('an unpriced model is refused before anything is sent; an operation without prices is not token-priced', () => {
    expect(() => prepareProviderCall(registry, { provider: 'openai', operation: 'createChatCompletion', params: { model: 'gpt-9', messages: [{ role: 'user', content: 'hi' }] } })).toThrow(
      /model "gpt-9" has no token price in the registry \(priced: gpt-4o-mini, gpt-4o\)/,
    );
    const flat = prepareProviderCall(registry, { provider: 'sendgrid', operation: 'sendMail', params: { to: 'a@example.com', subject: 's', text: 't' } });
    expect(flat.tokenPricing).toBeNull();
  });

  test('the registry checks token prices', () => {
    const base = structuredClone(registry.openai!) as unknown as Record<string, unknown>;
    const withPrices = (prices: unknown) => ({ providers: { openai: { ...base, operations: { createChatCompletion: { costUsd: 0, tokenPrices: prices } } } } });
    expect(() => parseRegistry(withPrices({ m: { promptPer1kUsd: -1 } }))).toThrow(/promptPer1kUsd/);
    expect(() => parseRegistry(withPrices({ m: { promptPer1kUsd: 1, perCall: 2 } }))).toThrow(/perCall/);
    expect(parseRegistry(withPrices({ m: { promptPer1kUsd: 1 } })).openai!.operations.createChatCompletion!.tokenPrices).toEqual({ m: { promptPer1kUsd: 1, completionPer1kUsd: 0 } });
  });
});

describe('Airtable', () => {
  const call = (operation: string, params: unknown) => () => prepareProviderCall(registry, { provider: 'airtable', operation, params });
  const table = { baseId: 'appSwitchyard0001', table: 'Leads' };

  test('its registry defaults: 10 records per grouped request, 5 requests/s', () => {
    expect(registry.airtable).toMatchObject({ rateLimitPerSecond: 5, batch: { maxSize: 10, mode: 'grouped', batchOperation: 'createRecords', recipientFields: ['fields'], appliesTo: ['createRecord'] } });
  });

  test('params: a base id, at least one field, no "__proto__" field, at most 10 records', () => {
    expect(call('createRecord', { ...table, fields: { Name: 'x', constructor: 'a field may be named so' } })).not.toThrow();
    expect(call('createRecord', { ...table, baseId: 'tblNotABase00001', fields: { Name: 'x' } })).toThrow(/baseId/);
    expect(call('createRecord', { ...table, fields: {} })).toThrow(/at least one field/);
    expect(call('createRecord', { ...table, fields: JSON.parse('{"__proto__": {"x": 1}, "Name": "y"}') as unknown })).toThrow(/"__proto__"/);
    const records = (n: number) => Array.from({ length: n }, (_, i) => ({ fields: { Name: `r${i}` } }));
    expect(call('createRecords', { ...table, recipients: records(10) })).not.toThrow();
    expect(call('createRecords', { ...table, recipients: records(11) })).toThrow(/recipients/);
  });

  test('its three error body shapes, classified: 422 and 403 not retried, 429 throttled, 5xx retried', () => {
    const classify = (status: number, body: unknown) => classifyProviderError({ provider: 'airtable', operation: 'createRecord', errorBody: errorBodies.airtable, status, body });
    expect(providerErrorBody('airtable', { error: { type: 'INVALID_RECORDS', message: 'bad' } })).toEqual({ code: 'INVALID_RECORDS', message: 'bad' });
    expect(providerErrorBody('airtable', { error: 'NOT_FOUND' })).toEqual({ code: 'NOT_FOUND', message: null });
    expect(providerErrorBody('airtable', { errors: [{ error: 'RATE_LIMIT_REACHED', message: 'slow down' }] })).toEqual({ code: 'RATE_LIMIT_REACHED', message: 'slow down' });
    expect(classify(422, { error: { type: 'UNKNOWN_FIELD_NAME', message: 'Unknown field name: "X"' } })).toMatchObject({ type: providerErrorTypes.rejected, nonRetryable: true });
    expect(classify(403, { error: { type: 'INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND', message: 'm' } })).toMatchObject({ type: providerErrorTypes.rejected, nonRetryable: true });
    expect(classify(429, { errors: [{ error: 'RATE_LIMIT_REACHED' }] })).toMatchObject({ type: providerErrorTypes.throttled, nonRetryable: false });
    expect(classify(503, { error: { type: 'SERVER_ERROR', message: 'm' } })).toMatchObject({ type: providerErrorTypes.unavailable, nonRetryable: false });
  });
});

describe('Google My Business', () => {
  const call = (params: unknown) => () => prepareProviderCall(registry, { provider: 'google-my-business', operation: 'replyToReview', params });

  test('its registry defaults: the Business Profile host, the shared OAuth client, a cached review list', () => {
    expect(registry['google-my-business']).toMatchObject({
      baseUrl: 'https://mybusiness.googleapis.com',
      hosts: { oauth2: 'https://oauth2.googleapis.com' },
      credentials: { clientId: 'GOOGLE_CLIENT_ID', refreshToken: 'GOOGLE_MY_BUSINESS_REFRESH_TOKEN' },
      operations: { listReviews: { cacheTtlSeconds: 60 } },
    });
  });

  test('numeric account and location ids; a review id cannot leave its path segment', () => {
    expect(call({ accountId: '1', locationId: '2', reviewId: 'AbC_d-1', comment: 'Thanks!' })).not.toThrow();
    expect(call({ accountId: '__proto__', locationId: '2', reviewId: 'r', comment: 'x' })).toThrow(/accountId/);
    expect(call({ accountId: '1', locationId: '2', reviewId: '../r', comment: 'x' })).toThrow(/reviewId/);
    expect(call({ accountId: '1', locationId: '2', reviewId: 'r', comment: ' ' })).toThrow(/comment/);
  });

  test("Google's error body: 404 NOT_FOUND not retried, 429 RESOURCE_EXHAUSTED throttled", () => {
    const classify = (status: number, body: unknown) =>
      classifyProviderError({ provider: 'google-my-business', operation: 'replyToReview', errorBody: errorBodies['google-my-business'], status, body });
    expect(classify(404, { error: { code: 404, message: 'Requested entity was not found.', status: 'NOT_FOUND' } })).toMatchObject({
      type: providerErrorTypes.rejected,
      message: 'google-my-business replyToReview: 404 NOT_FOUND: Requested entity was not found.',
    });
    expect(classify(429, { error: { code: 429, message: 'Quota exceeded', status: 'RESOURCE_EXHAUSTED' } })).toMatchObject({ type: providerErrorTypes.throttled });
  });
});
