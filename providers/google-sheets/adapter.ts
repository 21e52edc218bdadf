/**
 * Google Sheets adapter (Sheets API v4 values) over the official `@googleapis/sheets` client, with
 * the registry's base URL as its root URL and service-account authorization
 * (google-service-account.ts). Held to the shared core's contract like the Stripe adapter: no
 * client retries (Temporal retries), the registry's timeout, the activity's cancellation signal,
 * the provider's pool and outbound guard (the auth client's fetch, google-service-account.ts),
 * and the core's metrics and error classification (`sdkProviderRequest`).
 *
 * - `readRange`, `writeRange` (values.update), `appendRows` (values.append) are one request each;
 * - `batchWriteRanges` (values.batchUpdate) writes many ranges of one spreadsheet in one request:
 *   the batch workflow's `grouped` mode turns queued `writeRange` items into it (the spreadsheet id
 *   and value input option are the group, range and values vary per item), and the answer carries
 *   each range's own UpdateValuesResponse in `recipientResults`, in the items' order.
 *
 * Google takes no idempotency key. Updates are idempotent by nature (a retried write writes the
 * same values); an append is not: a retry after an answer was lost (timeout, reset) may append the
 * rows again, the one at-least-once operation here.
 */
import { ApplicationFailure } from '@temporalio/common';
import { sheets, type sheets_v4 } from '@googleapis/sheets';
import { z } from 'zod';
import { classifyRequestFailure, providerErrorTypes, providerSetupFailure, type ProviderRequestFailure } from '../core/classify';
import { googleServiceAccountClient } from '../core/google-service-account';
import { sdkProviderRequest } from '../core/http-core';
import type { OperationAdapter, ProviderAdapter, ProviderCallContext, ProviderResult } from '../core/adapter-types';

export const sheetsScopes = ['https://www.googleapis.com/auth/spreadsheets'] as const;

const spreadsheetId = z.string().regex(/^[A-Za-z0-9_-]{1,200}$/, 'a spreadsheet id');
/** A1 notation, e.g. `Sheet1!A1:C10`, `'My sheet'!A:A`, `Sheet1`. */
const a1Range = z.string().min(1).max(500);
const cell = z.union([z.string().max(50_000), z.number(), z.boolean(), z.null()]);
const rows = z.array(z.array(cell).max(18_278)).min(1).max(10_000);
const majorDimension = z.enum(['ROWS', 'COLUMNS']);
/** RAW by default: a value starting with `=` stays text instead of becoming a formula. */
const valueInputOption = z.enum(['RAW', 'USER_ENTERED']).default('RAW');

const readRangeParams = z.object({
  spreadsheetId,
  range: a1Range,
  majorDimension: majorDimension.optional(),
  valueRenderOption: z.enum(['FORMATTED_VALUE', 'UNFORMATTED_VALUE', 'FORMULA']).optional(),
});
export type ReadRangeParams = z.infer<typeof readRangeParams>;

const writeRangeParams = z.object({ spreadsheetId, range: a1Range, values: rows, majorDimension: majorDimension.optional(), valueInputOption });
export type WriteRangeParams = z.infer<typeof writeRangeParams>;

const appendRowsParams = writeRangeParams.extend({ insertDataOption: z.enum(['INSERT_ROWS', 'OVERWRITE']).default('INSERT_ROWS') });
export type AppendRowsParams = z.infer<typeof appendRowsParams>;

const batchWriteRangesParams = z.object({
  spreadsheetId,
  valueInputOption,
  /** One range each: the batch workflow's recipient fields of queued `writeRange` items. */
  recipients: z.array(z.object({ range: a1Range, values: rows, majorDimension: majorDimension.optional() })).min(1).max(1000),
});
export type BatchWriteRangesParams = z.infer<typeof batchWriteRangesParams>;

/** Per authorized client, per root URL. */
const clients = new WeakMap<object, Map<string, sheets_v4.Sheets>>();

/** The Sheets client over this call's authorized service-account client, rooted at the registry's base URL. */
function sheetsClient(ctx: ProviderCallContext): { client: sheets_v4.Sheets; tokenUri: string } {
  const { client: authClient, key } = googleServiceAccountClient(ctx, sheetsScopes);
  const rootUrl = ctx.provider.baseUrl.replace(/\/*$/, '/');
  let byRoot = clients.get(authClient);
  if (!byRoot) {
    byRoot = new Map();
    clients.set(authClient, byRoot);
  }
  let client = byRoot.get(rootUrl);
  if (!client) {
    client = sheets({ version: 'v4', rootUrl, auth: authClient });
    byRoot.set(rootUrl, client);
  }
  return { client, tokenUri: key.token_uri };
}

/** What a failed client request carries (a GaxiosError), read structurally. */
interface ClientFailure {
  message?: unknown;
  code?: unknown;
  config?: { url?: unknown };
  response?: { status?: unknown; headers?: unknown; data?: unknown };
  cause?: unknown;
}

function headerRecord(headers: unknown): Record<string, string> {
  const record: Record<string, string> = {};
  // A fetch Headers (of whichever fetch implementation answered), or a plain record.
  const iterable = headers as { forEach?: unknown } | null;
  if (typeof iterable?.forEach === 'function' && !Array.isArray(headers)) {
    (headers as { forEach(each: (value: string, name: string) => void): void }).forEach((value, name) => (record[name.toLowerCase()] = value));
  } else if (typeof headers === 'object' && headers !== null) {
    for (const [name, value] of Object.entries(headers)) if (typeof value === 'string') record[name.toLowerCase()] = value;
  }
  return record;
}

/**
 * What a failed client request tells, as the shared classification's input: Google's
 * `{error:{code,message,status}}` answer or the transport failure. A refusal at the token endpoint
 * (400/401/403 to the service account's assertion) is configuration, not the call's content:
 * returned as `ProviderMisconfigured` already.
 */
export function sheetsFailure(ctx: ProviderCallContext, tokenUri: string, error: unknown): ProviderRequestFailure | ApplicationFailure {
  const failure = (typeof error === 'object' && error !== null ? error : {}) as ClientFailure;
  const status = typeof failure.response?.status === 'number' ? failure.response.status : null;
  if (status === null) return { error: failure.cause instanceof Error ? failure.cause : error };
  const headers = headerRecord(failure.response?.headers);
  const body = failure.response?.data;
  const url = failure.config?.url;
  if (String(url) === tokenUri) {
    // The token endpoint's OAuth error: {error, error_description}.
    const oauth = typeof body === 'object' && body !== null ? (body as { error?: unknown; error_description?: unknown }) : {};
    const code = typeof oauth.error === 'string' ? oauth.error : null;
    const description = typeof oauth.error_description === 'string' ? oauth.error_description : null;
    const message = `token endpoint: ${description ?? code ?? 'refused the service-account assertion'}`;
    if (status === 400 || status === 401 || status === 403) {
      return providerSetupFailure({ provider: ctx.provider.name, operation: ctx.operation, type: providerErrorTypes.misconfigured, code: code ?? 'token_refused', message });
    }
    return { status, headers, body, code, message };
  }
  return { status, headers, body };
}

/** A client failure as the failure the activity throws (classify.ts). */
export function classifySheetsError(ctx: ProviderCallContext, tokenUri: string, error: unknown): ApplicationFailure {
  const failure = sheetsFailure(ctx, tokenUri, error);
  return failure instanceof ApplicationFailure ? failure : classifyRequestFailure(ctx, failure);
}

/** Runs one client call with the contract's options (no retries, timeout, cancellation), through the core's metrics and classification. */
function callSheets<T>(ctx: ProviderCallContext, run: (client: sheets_v4.Sheets, options: { timeout: number; retry: false; signal?: AbortSignal }) => Promise<{ data: T }>): Promise<T> {
  // Outside the measured request: a missing or broken key file is configuration, not a provider answer.
  const { client, tokenUri } = sheetsClient(ctx);
  const options = { timeout: ctx.provider.timeoutMs, retry: false as const, ...(ctx.signal ? { signal: ctx.signal } : {}) };
  return sdkProviderRequest(
    ctx,
    async () => (await run(client, options)).data,
    (error) => sheetsFailure(ctx, tokenUri, error),
  );
}

/** An UpdateValuesResponse reduced to its fields (values are not echoed back). */
export function updateResult(answer: sheets_v4.Schema$UpdateValuesResponse | undefined): Record<string, unknown> {
  return {
    spreadsheetId: answer?.spreadsheetId ?? null,
    updatedRange: answer?.updatedRange ?? null,
    updatedRows: answer?.updatedRows ?? 0,
    updatedColumns: answer?.updatedColumns ?? 0,
    updatedCells: answer?.updatedCells ?? 0,
  };
}

/** The values.batchUpdate body for one spreadsheet's ranges, in the recipients' order. */
export function batchUpdateBody(params: BatchWriteRangesParams): sheets_v4.Schema$BatchUpdateValuesRequest {
  return {
    valueInputOption: params.valueInputOption,
    data: params.recipients.map((r) => ({ range: r.range, values: r.values, ...(r.majorDimension ? { majorDimension: r.majorDimension } : {}) })),
  };
}

/**
 * The batch answer: totals, and each range's own UpdateValuesResponse in the recipients' order
 * (Google answers `responses` in the order of `data`). A missing response reads as an empty one.
 */
export function batchUpdateResult(params: BatchWriteRangesParams, answer: sheets_v4.Schema$BatchUpdateValuesResponse): ProviderResult {
  const responses = answer.responses ?? [];
  return {
    data: {
      spreadsheetId: answer.spreadsheetId ?? params.spreadsheetId,
      totalUpdatedCells: answer.totalUpdatedCells ?? 0,
      totalUpdatedRows: answer.totalUpdatedRows ?? 0,
      ranges: params.recipients.length,
      recipientResults: params.recipients.map((_r, i) => updateResult(responses[i])),
    },
  };
}

/** The ValueRange a single-range write sends. */
function valueRange(params: WriteRangeParams | AppendRowsParams): sheets_v4.Schema$ValueRange {
  return { range: params.range, values: params.values, ...(params.majorDimension ? { majorDimension: params.majorDimension } : {}) };
}

const readRange: OperationAdapter<ReadRangeParams> = {
  params: readRangeParams,
  async run(params, ctx) {
    const answer = await callSheets(ctx, (client, options) => client.spreadsheets.values.get(params, options));
    return { data: { range: answer.range ?? params.range, majorDimension: answer.majorDimension ?? 'ROWS', values: answer.values ?? [] } };
  },
};

const writeRange: OperationAdapter<WriteRangeParams> = {
  params: writeRangeParams,
  async run(params, ctx) {
    const answer = await callSheets(ctx, (client, options) =>
      client.spreadsheets.values.update(
        {
          spreadsheetId: params.spreadsheetId,
          range: params.range,
          valueInputOption: params.valueInputOption,
          requestBody: valueRange(params),
        },
        options,
      ),
    );
    return { data: updateResult(answer) };
  },
};

const appendRows: OperationAdapter<AppendRowsParams> = {
  params: appendRowsParams,
  async run(params, ctx) {
    const answer = await callSheets(ctx, (client, options) =>
      client.spreadsheets.values.append(
        {
          spreadsheetId: params.spreadsheetId,
          range: params.range,
          valueInputOption: params.valueInputOption,
          insertDataOption: params.insertDataOption,
          requestBody: valueRange(params),
        },
        options,
      ),
    );
    return { data: { spreadsheetId: answer.spreadsheetId ?? params.spreadsheetId, tableRange: answer.tableRange ?? null, updates: updateResult(answer.updates) } };
  },
};

const batchWriteRanges: OperationAdapter<BatchWriteRangesParams> = {
  params: batchWriteRangesParams,
  async run(params, ctx) {
    const answer = await callSheets(ctx, (client, options) =>
      client.spreadsheets.values.batchUpdate({ spreadsheetId: params.spreadsheetId, requestBody: batchUpdateBody(params) }, options),
    );
    return batchUpdateResult(params, answer);
  },
};

export const googleSheetsAdapter: ProviderAdapter = { readRange, writeRange, appendRows, batchWriteRanges };
