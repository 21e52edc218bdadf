/**
 * Airtable's failed answers name the reason three ways: `{error:{type, message}}` (422
 * INVALID_RECORDS, 401 AUTHENTICATION_REQUIRED, 403 INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND),
 * `{error:"NOT_FOUND"}` (404), and `{errors:[{error, message}]}` (429 RATE_LIMIT_REACHED).
 */
import { firstRecord, recordAt, text, type ErrorBodyReader } from '../core/error-body';

export const airtableErrorBody: ErrorBodyReader = (body) => {
  const error = recordAt(body, 'error');
  if (error) return { code: text(error.type), message: text(error.message) };
  const listed = firstRecord(body.errors);
  if (listed) return { code: text(listed.error), message: text(listed.message) };
  return { code: text(body.error), message: null };
};
