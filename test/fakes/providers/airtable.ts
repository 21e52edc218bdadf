/**
 * Fake Airtable Web API, on Airtable's paths and bodies:
 * - `POST /v0/{baseId}/{tableIdOrName}` `{records:[{fields}], typecast?}` creates 1 to 10 records
 *   and answers `{records:[{id, createdTime, fields}]}` in the order sent; all or nothing, as
 *   Airtable does: more than 10 records (or none, or one without `fields`) is 422 INVALID_RECORDS,
 *   a field named `Unknown…` is 422 UNKNOWN_FIELD_NAME, a table named `missing…` is 403
 *   INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND, and nothing is created;
 * - `GET /v0/meta/whoami` the token's user and scopes (the health probe).
 * Every request needs `Authorization: Bearer pat…` (401 AUTHENTICATION_REQUIRED otherwise). Error
 * bodies are Airtable's: `{error:{type, message}}`, and `{errors:[{error, message}]}` for 429
 * RATE_LIMIT_REACHED (which Airtable sends without Retry-After).
 */
import { STATUS_CODES } from 'node:http';
import { bearerToken, isRecord } from '../http-io';
import { randomString } from '../random-ids';
import type { ProviderState } from '../state';
import type { FakeResponse, ParsedRequest } from '../types';
import { json, type ProviderModule } from './provider-module';

const MAX_RECORDS = 10;

function airtableError(status: number, type: string, message: string): FakeResponse {
  return json(status, { error: { type, message } });
}

function unauthorized(req: ParsedRequest): FakeResponse | undefined {
  return bearerToken(req)?.startsWith('pat') ? undefined : airtableError(401, 'AUTHENTICATION_REQUIRED', 'Authentication required');
}

const invalidRecords = (): FakeResponse =>
  airtableError(422, 'INVALID_RECORDS', `You must provide an array of up to ${MAX_RECORDS} record objects, each with a "fields" object`);

function createRecords(req: ParsedRequest, params: Record<string, string>, state: ProviderState): FakeResponse {
  if (params.table!.startsWith('missing')) {
    return airtableError(403, 'INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND', 'Invalid permissions, or the requested model was not found. Check that both your user and your token have the required permissions, and that the model names and/or ids are correct.');
  }
  const body = isRecord(req.body) ? req.body : {};
  const records = body.records;
  if (!Array.isArray(records) || records.length === 0 || records.length > MAX_RECORDS) return invalidRecords();
  if (!records.every((record) => isRecord(record) && isRecord(record.fields))) return invalidRecords();
  if (body.typecast !== undefined && typeof body.typecast !== 'boolean') {
    return airtableError(422, 'INVALID_REQUEST_UNKNOWN', 'Invalid request: parameter validation failed. Check your request data.');
  }
  const fieldsOf = (records as { fields: Record<string, unknown> }[]).map((record) => record.fields);
  for (const fields of fieldsOf) {
    const unknown = Object.keys(fields).find((name) => name.startsWith('Unknown'));
    if (unknown !== undefined) return airtableError(422, 'UNKNOWN_FIELD_NAME', `Unknown field name: "${unknown}"`);
  }
  const key = `${params.baseId}/${params.table}`;
  const created = fieldsOf.map((fields) => ({ id: `rec${randomString(14)}`, createdTime: new Date().toISOString(), fields }));
  state.airtableRecords.set(key, [...(state.airtableRecords.get(key) ?? []), ...created]);
  return json(200, { records: created });
}

/** Airtable's 429 body (sent without Retry-After: the penalty is a documented 30 seconds). */
function rateLimitBody(): unknown {
  return { errors: [{ error: 'RATE_LIMIT_REACHED', message: 'Rate limit exceeded. Please try again later' }] };
}

export const airtable: ProviderModule = {
  id: 'airtable',
  routes: [
    {
      // The token's owner: the health probe.
      method: 'GET',
      path: /^\/v0\/meta\/whoami$/,
      operation: 'probe',
      handle: (req) => unauthorized(req) ?? json(200, { id: 'usrFakeSwitchyard1', scopes: ['data.records:read', 'data.records:write'] }),
    },
    {
      method: 'POST',
      path: /^\/v0\/(?<baseId>app[^/]+)\/(?<table>[^/]+)$/,
      // One record is `createRecord`; a request carrying several is the batch's `createRecords`.
      operation: (req) => (isRecord(req.body) && Array.isArray(req.body.records) && req.body.records.length > 1 ? 'createRecords' : 'createRecord'),
      handle: (req, params, state) => unauthorized(req) ?? createRecords(req, params, state),
    },
  ],
  faultBodies: {
    status: (status) =>
      status === 429
        ? rateLimitBody()
        : {
            error: {
              type: status >= 500 ? 'SERVER_ERROR' : status === 404 ? 'NOT_FOUND' : status === 403 ? 'INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND' : 'INVALID_REQUEST_UNKNOWN',
              message: STATUS_CODES[status] ?? 'error',
            },
          },
    rateLimit: rateLimitBody,
    validation: () => ({ error: { type: 'INVALID_REQUEST_UNKNOWN', message: 'Invalid request: parameter validation failed. Check your request data.' } }),
  },
};
