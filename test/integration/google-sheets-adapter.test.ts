/**
 * The Google Sheets adapter against the fake Sheets API and token endpoint: the official client
 * really used (its requests at the fake on Google's paths), the service-account flow (an RS256
 * assertion signed with a key generated here, verified by the fake, the token cached across
 * calls), read/write/append/batchUpdate on the wire, and failures classified once (no client
 * retries): 429 throttled with Retry-After, 5xx unavailable, a bad range rejected, a refused
 * key misconfigured, the outbound guard enforced.
 */
import { ApplicationFailure } from '@temporalio/common';
import { closeProviderConnections } from '../../providers/prepare-provider-call';
import type { ProviderFailureDetails } from '../../providers/core/classify';
import { clearGoogleServiceAccountClients } from '../../providers/core/google-service-account';
import type { ProviderCallContext } from '../../providers/core/adapter-types';
import { OutboundPolicy, strictOutboundPolicy } from '../../lib/security/outbound-policy';
import { loadRegistry } from '../../lib/config/registry';
import { startFakeProviders, type FakeProviders } from '../fakes/provider-server';
import { createTestServiceAccount, type TestServiceAccount } from '../support/google-service-account';
import { sendProviderCall } from '../support/provider-calls';

const registry = loadRegistry({});
const outbound = new OutboundPolicy({ allow: ['127.0.0.1', '::1'], allowHttp: true });

let fake: FakeProviders;
let account: TestServiceAccount;

beforeAll(async () => {
  fake = await startFakeProviders();
  account = createTestServiceAccount(fake);
});

afterAll(async () => {
  await closeProviderConnections();
  await fake.close();
});

beforeEach(() => {
  fake.reset();
  // Each test starts without a cached token (reset() forgot the fake's tokens).
  clearGoogleServiceAccountClients();
});

function ctxFor(operation: string, options: { keyFile?: string; policy?: OutboundPolicy } = {}): ProviderCallContext {
  return {
    provider: { ...registry['google-sheets']!, baseUrl: fake.url },
    operation,
    credentials: { serviceAccountKeyFile: options.keyFile ?? account.keyFile },
    idempotencyKey: 'sheets-test',
    outbound: options.policy ?? outbound,
  };
}

async function failureOf(call: Promise<unknown>): Promise<ApplicationFailure & { provider: ProviderFailureDetails }> {
  try {
    await call;
  } catch (error) {
    expect(error).toBeInstanceOf(ApplicationFailure);
    const failure = error as ApplicationFailure;
    return Object.assign(failure, { provider: failure.details?.[0] as ProviderFailureDetails });
  }
  throw new Error('expected the call to fail');
}

const sheetRequests = () => fake.requests({ provider: 'google-sheets' });

test('write, append and read on the wire, authorized by one service-account token exchange', async () => {
  const written = await sendProviderCall(ctxFor('writeRange'), { spreadsheetId: 'sheet-a', range: 'Sheet1!A1:B2', values: [['name', 'qty'], ['apples', 3]] });
  expect(written.data).toEqual({ spreadsheetId: 'sheet-a', updatedRange: 'Sheet1!A1:B2', updatedRows: 2, updatedColumns: 2, updatedCells: 4 });
  const appended = await sendProviderCall(ctxFor('appendRows'), { spreadsheetId: 'sheet-a', range: 'Sheet1!A:B', values: [['pears', 5]] });
  expect(appended.data).toEqual({
    spreadsheetId: 'sheet-a',
    tableRange: 'Sheet1!A1:B2',
    updates: { spreadsheetId: 'sheet-a', updatedRange: 'Sheet1!A3:B3', updatedRows: 1, updatedColumns: 2, updatedCells: 2 },
  });
  const read = await sendProviderCall(ctxFor('readRange'), { spreadsheetId: 'sheet-a', range: 'Sheet1!A1:B10' });
  // Formatted values, as Google answers by default.
  expect(read.data).toEqual({ range: 'Sheet1!A1:B10', majorDimension: 'ROWS', values: [['name', 'qty'], ['apples', '3'], ['pears', '5']] });

  const requests = sheetRequests();
  expect(requests.map((r) => `${r.operation} ${r.method} ${r.path}`)).toEqual([
    'token POST /token',
    // The range path segment is percent-encoded by the client, as Google receives it.
    'writeRange PUT /v4/spreadsheets/sheet-a/values/Sheet1%21A1%3AB2',
    'appendRows POST /v4/spreadsheets/sheet-a/values/Sheet1%21A%3AB:append',
    'readRange GET /v4/spreadsheets/sheet-a/values/Sheet1%21A1%3AB10',
  ]);
  // The token request is the JWT-bearer grant with an assertion the fake verified against the generated key.
  const tokenRequest = requests[0]!;
  expect(tokenRequest.status).toBe(200);
  expect(tokenRequest.body).toMatchObject({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer' });
  const claims = JSON.parse(Buffer.from(String((tokenRequest.body as { assertion: string }).assertion).split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
  expect(claims).toMatchObject({ iss: account.clientEmail, scope: 'https://www.googleapis.com/auth/spreadsheets' });
  // Every API request carries the issued token and the official client's identification; RAW is the default input option.
  for (const r of requests.slice(1)) {
    expect(r.headers.authorization).toMatch(/^Bearer ya29\.fake-issued-/);
    expect(r.headers['x-goog-api-client']).toMatch(/gdcl\//);
  }
  expect(requests[1]!.query).toMatchObject({ valueInputOption: 'RAW' });
  expect(requests[2]!.query).toMatchObject({ valueInputOption: 'RAW', insertDataOption: 'INSERT_ROWS' });
  expect(fake.state().sheets.tokensIssued).toBe(1);
});

test('batchWriteRanges is one values:batchUpdate with every range; each range gets its own UpdateValuesResponse, in order', async () => {
  const result = await sendProviderCall(ctxFor('batchWriteRanges'), {
    spreadsheetId: 'sheet-b',
    recipients: [
      { range: 'Sheet1!A1', values: [['x']] },
      { range: 'Sheet2!B2:C2', values: [['y', 'z']] },
      { range: 'Sheet1!D1:D3', values: [[1, 2, 3]], majorDimension: 'COLUMNS' },
    ],
  });
  expect(result.data).toMatchObject({ spreadsheetId: 'sheet-b', totalUpdatedCells: 6, ranges: 3 });
  expect((result.data.recipientResults as Array<{ updatedRange: string; updatedCells: number }>).map((r) => [r.updatedRange, r.updatedCells])).toEqual([
    ['Sheet1!A1', 1],
    ['Sheet2!B2:C2', 2],
    ['Sheet1!D1:D3', 3],
  ]);
  const [batch] = fake.requests({ provider: 'google-sheets', operation: 'batchUpdate' });
  expect(batch!.path).toBe('/v4/spreadsheets/sheet-b/values:batchUpdate');
  expect(batch!.body).toMatchObject({ valueInputOption: 'RAW', data: [{ range: 'Sheet1!A1' }, { range: 'Sheet2!B2:C2' }, { range: 'Sheet1!D1:D3', majorDimension: 'COLUMNS' }] });
});

test('429 RESOURCE_EXHAUSTED is throttled with Retry-After, 5xx unavailable: one request each, no client retries', async () => {
  fake.addFault({ provider: 'google-sheets', operation: 'writeRange', kind: 'rate-limit', retryAfterSeconds: 7, times: 1 });
  const throttled = await failureOf(sendProviderCall(ctxFor('writeRange'), { spreadsheetId: 'sheet-c', range: 'Sheet1!A1', values: [['v']] }));
  expect(throttled.type).toBe('ProviderThrottled');
  expect(throttled.nonRetryable).toBe(false);
  expect(throttled.nextRetryDelay).toBe(7000);
  expect(throttled.provider).toMatchObject({ provider: 'google-sheets', operation: 'writeRange', status: 429, code: 'RESOURCE_EXHAUSTED', retryable: true });

  fake.addFault({ provider: 'google-sheets', operation: 'readRange', kind: 'status', status: 503, times: 1 });
  const unavailable = await failureOf(sendProviderCall(ctxFor('readRange'), { spreadsheetId: 'sheet-c', range: 'Sheet1!A1' }));
  expect(unavailable.type).toBe('ProviderUnavailable');
  expect(unavailable.provider).toMatchObject({ status: 503, code: 'UNAVAILABLE', retryable: true });

  expect(fake.requests({ provider: 'google-sheets', operation: 'writeRange' })).toHaveLength(1);
  expect(fake.requests({ provider: 'google-sheets', operation: 'readRange' })).toHaveLength(1);
});

test('a range Google cannot parse is rejected, not retried; the message is Google\'s', async () => {
  const rejected = await failureOf(sendProviderCall(ctxFor('writeRange'), { spreadsheetId: 'sheet-d', range: 'Nope!A1', values: [['v']] }));
  expect(rejected.type).toBe('ProviderRejected');
  expect(rejected.nonRetryable).toBe(true);
  expect(rejected.message).toBe('google-sheets writeRange: 400 INVALID_ARGUMENT: Unable to parse range: Nope!A1');
  const missing = await failureOf(sendProviderCall(ctxFor('readRange'), { spreadsheetId: 'missing-sheet', range: 'Sheet1!A1' }));
  expect(missing.provider).toMatchObject({ status: 404, code: 'NOT_FOUND', retryable: false });
});

test('a key the token endpoint does not trust, or no key file, fails as misconfigured before any API request', async () => {
  const stranger = createTestServiceAccount(fake, { trusted: false });
  const refused = await failureOf(sendProviderCall(ctxFor('readRange', { keyFile: stranger.keyFile }), { spreadsheetId: 's', range: 'Sheet1!A1' }));
  expect(refused.type).toBe('ProviderMisconfigured');
  expect(refused.provider).toMatchObject({ code: 'invalid_grant' });
  expect(refused.message).toContain('token endpoint: Invalid grant: account not found');
  expect(fake.requests({ provider: 'google-sheets', operation: 'readRange' })).toHaveLength(0);

  const absent = await failureOf(sendProviderCall(ctxFor('readRange', { keyFile: '/nonexistent/key.json' }), { spreadsheetId: 's', range: 'Sheet1!A1' }));
  expect(absent.type).toBe('ProviderMisconfigured');
  expect(absent.message).toContain('service_account_key_unreadable');
  expect(absent.message).not.toContain('/nonexistent');
});

test('the outbound guard applies to the client: loopback is refused under the strict policy', async () => {
  const refused = await failureOf(sendProviderCall(ctxFor('readRange', { policy: strictOutboundPolicy }), { spreadsheetId: 's', range: 'Sheet1!A1' }));
  expect(refused.type).toBe('ProviderMisconfigured');
  expect(refused.provider.code).toBe('outbound_refused');
  expect(sheetRequests()).toHaveLength(0);
});
