/**
 * The Google Sheets wire mapping without a server: params and their defaults, the
 * values:batchUpdate body and its per-range results, how client failures are classified (Google's
 * `{error:{code,message,status}}`, the token endpoint's OAuth errors, transport failures), the
 * registry's `batch.appliesTo`, the Sheets push-channel event types, and the fake's A1 parser.
 */
import type { ApplicationFailure } from '@temporalio/common';
import { googleChannelOptions, googleCalendarScheme } from '../../providers/core/google-channel-token';
import { parseWebhookSources } from '../../api/webhook-sources';
import type { ProviderFailureDetails } from '../../providers/core/classify';
import { batchUpdateBody, batchUpdateResult, classifySheetsError, googleSheetsAdapter, updateResult, type BatchWriteRangesParams } from '../../providers/google-sheets/adapter';
import type { ProviderCallContext } from '../../providers/core/adapter-types';
import { loadRegistry, parseRegistry } from '../../lib/config/registry';
import { columnIndex, columnLetters, parseA1 } from '../fakes/providers/google-sheets';
import { errorBodies } from '../../providers';

const registry = loadRegistry({});
const ctx: ProviderCallContext = {
  provider: registry['google-sheets']!,
  operation: 'writeRange',
  credentials: { serviceAccountKeyFile: '/etc/switchyard/sheets.json' },
  idempotencyKey: 'k',
  // As providers/prepare-provider-call.ts fills it in: how Google's failed answers name the reason.
  errorBody: errorBodies['google-sheets'],
};
const tokenUri = 'https://oauth2.googleapis.com/token';

const detailsOf = (failure: ApplicationFailure) => failure.details?.[0] as ProviderFailureDetails;

describe('params', () => {
  test('writes default to RAW input (text starting with "=" stays text); ids and values are checked', () => {
    expect(googleSheetsAdapter.writeRange!.params.parse({ spreadsheetId: 'abc_DEF-1', range: 'Sheet1!A1', values: [['=1+1']] })).toEqual({
      spreadsheetId: 'abc_DEF-1',
      range: 'Sheet1!A1',
      values: [['=1+1']],
      valueInputOption: 'RAW',
    });
    expect(googleSheetsAdapter.appendRows!.params.parse({ spreadsheetId: 's', range: 'A:A', values: [[1, true, null]] })).toMatchObject({ insertDataOption: 'INSERT_ROWS' });
    expect(googleSheetsAdapter.writeRange!.params.safeParse({ spreadsheetId: '../x', range: 'A1', values: [['v']] }).success).toBe(false);
    expect(googleSheetsAdapter.writeRange!.params.safeParse({ spreadsheetId: 's', range: 'A1', values: [] }).success).toBe(false);
    expect(googleSheetsAdapter.writeRange!.params.safeParse({ spreadsheetId: 's', range: 'A1', values: [[{ nested: 1 }]] }).success).toBe(false);
    expect(googleSheetsAdapter.readRange!.params.safeParse({ spreadsheetId: 's', range: 'A1', valueRenderOption: 'FORMULA' }).success).toBe(true);
  });
});

describe('values:batchUpdate', () => {
  const params: BatchWriteRangesParams = {
    spreadsheetId: 'sheet',
    valueInputOption: 'USER_ENTERED',
    recipients: [
      { range: 'Sheet1!A1', values: [['a']] },
      { range: 'Sheet1!B1:B2', values: [['b', 'c']], majorDimension: 'COLUMNS' },
    ],
  };

  test('one body with a ValueRange per recipient, in order', () => {
    expect(batchUpdateBody(params)).toEqual({
      valueInputOption: 'USER_ENTERED',
      data: [
        { range: 'Sheet1!A1', values: [['a']] },
        { range: 'Sheet1!B1:B2', values: [['b', 'c']], majorDimension: 'COLUMNS' },
      ],
    });
  });

  test("each recipient gets its range's UpdateValuesResponse; a missing one reads as empty", () => {
    const result = batchUpdateResult(params, {
      spreadsheetId: 'sheet',
      totalUpdatedCells: 3,
      totalUpdatedRows: 2,
      responses: [{ spreadsheetId: 'sheet', updatedRange: 'Sheet1!A1', updatedRows: 1, updatedColumns: 1, updatedCells: 1 }],
    });
    expect(result.data).toEqual({
      spreadsheetId: 'sheet',
      totalUpdatedCells: 3,
      totalUpdatedRows: 2,
      ranges: 2,
      recipientResults: [
        { spreadsheetId: 'sheet', updatedRange: 'Sheet1!A1', updatedRows: 1, updatedColumns: 1, updatedCells: 1 },
        updateResult(undefined),
      ],
    });
    expect(updateResult(undefined)).toEqual({ spreadsheetId: null, updatedRange: null, updatedRows: 0, updatedColumns: 0, updatedCells: 0 });
  });
});

describe('classification of client failures', () => {
  const answered = (status: number, data: unknown, headers: Record<string, string> = {}, url = 'https://sheets.googleapis.com/v4/spreadsheets/s/values/A1') => ({
    message: 'Request failed',
    config: { url: new URL(url) },
    response: { status, data, headers: new Headers(headers) },
  });

  test("Google's 429 RESOURCE_EXHAUSTED is throttled with Retry-After", () => {
    const failure = classifySheetsError(ctx, tokenUri, answered(429, { error: { code: 429, message: 'Quota exceeded', status: 'RESOURCE_EXHAUSTED' } }, { 'retry-after': '3' }));
    expect(failure.type).toBe('ProviderThrottled');
    expect(failure.nextRetryDelay).toBe(3000);
    expect(detailsOf(failure)).toEqual({ provider: 'google-sheets', operation: 'writeRange', status: 429, code: 'RESOURCE_EXHAUSTED', retryable: true });
  });

  test('400 INVALID_ARGUMENT is rejected; 500 INTERNAL unavailable', () => {
    const rejected = classifySheetsError(ctx, tokenUri, answered(400, { error: { code: 400, message: 'Unable to parse range: X!A1', status: 'INVALID_ARGUMENT' } }));
    expect(rejected.type).toBe('ProviderRejected');
    expect(rejected.message).toBe('google-sheets writeRange: 400 INVALID_ARGUMENT: Unable to parse range: X!A1');
    expect(classifySheetsError(ctx, tokenUri, answered(500, { error: { code: 500, message: 'Internal error', status: 'INTERNAL' } })).type).toBe('ProviderUnavailable');
  });

  test('the token endpoint refusing the key is misconfiguration; its 5xx is retryable', () => {
    const refused = classifySheetsError(ctx, tokenUri, answered(400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' }, {}, tokenUri));
    expect(refused.type).toBe('ProviderMisconfigured');
    expect(refused.nonRetryable).toBe(true);
    expect(refused.message).toBe('google-sheets writeRange: invalid_grant: token endpoint: Invalid JWT Signature.');
    const down = classifySheetsError(ctx, tokenUri, answered(503, 'unavailable', {}, tokenUri));
    expect(down.type).toBe('ProviderUnavailable');
  });

  test('no answer (reset, refused connection) is unavailable and names the transport error', () => {
    const failure = classifySheetsError(ctx, tokenUri, { message: 'fetch failed', cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
    expect(failure.type).toBe('ProviderUnavailable');
    expect(failure.message).toContain('ECONNRESET');
  });
});

describe('registry', () => {
  test('google-sheets batches writeRange only, into batchWriteRanges, grouped by everything but range and values', () => {
    expect(registry['google-sheets']!.batch).toMatchObject({ mode: 'grouped', batchOperation: 'batchWriteRanges', appliesTo: ['writeRange'], recipientFields: ['range', 'values', 'majorDimension'] });
    expect(registry['google-sheets']!.credentials).toEqual({ serviceAccountKeyFile: 'GOOGLE_SHEETS_CREDENTIALS_FILE' });
  });

  test('batch.appliesTo must name operations of the provider', () => {
    const document = {
      providers: {
        sheets: {
          kind: 'google-sheets',
          baseUrl: 'https://sheets.googleapis.com',
          operations: { writeRange: {}, batchWriteRanges: {} },
          batch: { maxSize: 10, maxWaitMs: {}, mode: 'grouped', batchOperation: 'batchWriteRanges', appliesTo: ['writeRnage'] },
        },
      },
    };
    expect(() => parseRegistry(document)).toThrow(/batch\.appliesTo: unknown operation "writeRnage"/);
  });
});

describe('push channel notifications', () => {
  const request = (headers: Record<string, string>) => ({ rawBody: Buffer.alloc(0), headers, url: 'https://api.example/webhooks/google/sheets', nowSeconds: 0 });
  const headers = { 'x-goog-channel-id': 'chan-1', 'x-goog-message-number': '9', 'x-goog-resource-state': 'sync', 'x-goog-channel-token': 'secret-token' };

  test('the google-sheets source names its events sheets.<state>, keyed by channel and message number; the token stays out of the payload', () => {
    const source = parseWebhookSources({ sources: { 'google-sheets': { scheme: 'google-channel-token', options: { eventTypePrefix: 'sheets' } } } }).get('google-sheets')!;
    const extracted = googleCalendarScheme.extract(request(headers), source.options as { eventTypePrefix: string });
    expect(extracted).toEqual({
      ok: true,
      events: [{ eventId: 'chan-1:9', eventType: 'sheets.sync', payload: { 'x-goog-channel-id': 'chan-1', 'x-goog-message-number': '9', 'x-goog-resource-state': 'sync' } }],
    });
    expect(googleChannelOptions.parse({})).toEqual({ eventTypePrefix: 'calendar' });
    expect(googleChannelOptions.safeParse({ eventTypePrefix: 'Bad Prefix' }).success).toBe(false);
  });

  test('the channel token is compared with the live tokens', () => {
    expect(googleCalendarScheme.verify(request(headers), ['other', 'secret-token'], {})).toEqual({ ok: true });
    expect(googleCalendarScheme.verify(request(headers), ['other'], {})).toMatchObject({ ok: false });
  });
});

describe("the fake's A1 notation", () => {
  test('columns, ranges, sheet names and what does not parse', () => {
    expect([columnIndex('A'), columnIndex('Z'), columnIndex('AA'), columnIndex('ZZ')]).toEqual([0, 25, 26, 701]);
    expect([0, 25, 26, 701].map(columnLetters)).toEqual(['A', 'Z', 'AA', 'ZZ']);
    const sheets = ['Sheet1', 'My sheet'];
    expect(parseA1('Sheet1!B2:C3', sheets)).toEqual({ sheet: 'Sheet1', startRow: 1, startCol: 1, endRow: 2, endCol: 2 });
    expect(parseA1("'My sheet'!A:A", sheets)).toEqual({ sheet: 'My sheet', startRow: 0, startCol: 0, endCol: 0 });
    expect(parseA1('A5', sheets)).toEqual({ sheet: 'Sheet1', startRow: 4, startCol: 0, endRow: 4, endCol: 0 });
    expect(parseA1('Sheet1', sheets)).toEqual({ sheet: 'Sheet1', startRow: 0, startCol: 0 });
    for (const bad of ['Nope!A1', 'Sheet1!C3:A1', 'Sheet1!A1:B2:C3', 'Sheet1!']) expect(parseA1(bad, sheets)).toBeNull();
  });
});
