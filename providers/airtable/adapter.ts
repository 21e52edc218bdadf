/**
 * Airtable adapter: record creation in a base's table (`POST /v0/{baseId}/{tableIdOrName}`), one
 * record (`createRecord`) or up to 10 at once (`createRecords`, what the batch workflow's
 * `grouped` flush sends: queued `createRecord` items of one table become one request, and each
 * item gets its own record back from `recipientResults`, in the order sent, which is the order
 * Airtable answers in). A request is all or nothing: a record Airtable refuses (422
 * INVALID_RECORDS, UNKNOWN_FIELD_NAME) fails the whole request and creates nothing, so the batch
 * workflow's split into single requests is safe. Airtable has no idempotency key: an attempt
 * whose answer was lost (a timeout) may create its records again when retried, as a Sheets append
 * may. Airtable sends no Retry-After with its 429:
 * its documented penalty is 30 seconds, which the retry waits (`airtableRateLimitPenaltyMs`).
 */
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { providerErrorTypes } from '../core/classify';
import { answerField, providerRequest, requireCredential } from '../core/http-core';
import type { OperationAdapter, ProviderAdapter, ProviderCallContext, ProviderResult } from '../core/adapter-types';

/** Airtable refuses more records than this in one request (422 INVALID_RECORDS). */
export const airtableMaxRecordsPerRequest = 10;
/** How long Airtable refuses a base's requests after its 5 requests/s were exceeded. */
export const airtableRateLimitPenaltyMs = 30_000;

/**
 * A record's cell values by field name. Refused rather than dropped: `__proto__` (a JSON parser
 * makes it an own key; the record schema would silently lose it).
 */
const fields = z
  .unknown()
  .superRefine((value, ctx) => {
    if (typeof value === 'object' && value !== null && Object.hasOwn(value, '__proto__')) {
      ctx.addIssue({ code: 'custom', message: 'a field may not be named "__proto__"' });
    }
  })
  .pipe(z.record(z.string().min(1).max(255), z.unknown()))
  .refine((record) => Object.keys(record).length > 0, { message: 'at least one field' });

const tableRef = z.object({
  baseId: z.string().regex(/^app[A-Za-z0-9]{14}$/, 'an Airtable base id (app…, 17 characters)'),
  /** The table's id (tbl…) or its name. */
  table: z.string().min(1).max(255),
  /** Airtable converts strings to the fields' types (select options are created). */
  typecast: z.boolean().optional(),
});

const createRecordParams = tableRef.extend({ fields });
export type CreateRecordParams = z.infer<typeof createRecordParams>;

const createRecordsParams = tableRef.extend({
  /** The records, as the batch workflow's grouped flush names them: one per queued item. */
  recipients: z.array(z.object({ fields })).min(1).max(airtableMaxRecordsPerRequest),
});
export type CreateRecordsParams = z.infer<typeof createRecordsParams>;

/** A created record as callers need it: its id and creation time (the fields are the caller's own). */
function recordOf(body: unknown, index: number): { id: string | null; createdTime: string | null } {
  return { id: answerField(body, 'records', index, 'id'), createdTime: answerField(body, 'records', index, 'createdTime') };
}

/** Airtable's 429 carries no Retry-After; without one the retry waits out Airtable's documented penalty. */
function withPenalty(error: unknown): unknown {
  if (!(error instanceof ApplicationFailure) || error.type !== providerErrorTypes.throttled || error.nextRetryDelay !== undefined) return error;
  return ApplicationFailure.create({
    message: error.message,
    type: error.type,
    details: error.details ?? undefined,
    nextRetryDelay: airtableRateLimitPenaltyMs,
  });
}

async function createIn(ctx: ProviderCallContext, table: z.infer<typeof tableRef>, records: readonly { fields: Record<string, unknown> }[]): Promise<unknown> {
  try {
    const response = await providerRequest({
      ctx,
      method: 'POST',
      path: `/v0/${encodeURIComponent(table.baseId)}/${encodeURIComponent(table.table)}`,
      headers: { authorization: `Bearer ${requireCredential(ctx, 'accessToken')}` },
      json: { records: records.map((record) => ({ fields: record.fields })), ...(table.typecast === undefined ? {} : { typecast: table.typecast }) },
    });
    return response.body;
  } catch (error) {
    throw withPenalty(error);
  }
}

const createRecord: OperationAdapter<CreateRecordParams> = {
  params: createRecordParams,
  async run(params, ctx): Promise<ProviderResult> {
    return { data: recordOf(await createIn(ctx, params, [{ fields: params.fields }]), 0) };
  },
};

const createRecords: OperationAdapter<CreateRecordsParams> = {
  params: createRecordsParams,
  async run(params, ctx): Promise<ProviderResult> {
    const body = await createIn(ctx, params, params.recipients);
    const recipientResults = params.recipients.map((_record, index) => recordOf(body, index));
    return { data: { created: recipientResults.filter((r) => r.id !== null).length, recipientResults } };
  },
};

export const airtableAdapter: ProviderAdapter = { createRecord, createRecords };
