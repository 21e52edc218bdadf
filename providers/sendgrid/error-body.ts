/** SendGrid's failed answers: `{errors:[{message, field, help}]}`, the field naming what was wrong (subject, from, …). */
import { firstRecord, text, type ErrorBodyReader } from '../core/error-body';

export const sendgridErrorBody: ErrorBodyReader = (body) => {
  const first = firstRecord(body.errors);
  return { code: text(first?.field), message: text(first?.message) };
};
