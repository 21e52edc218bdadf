/**
 * PayPal's failed answers. REST APIs: `{name, message, debug_id, details:[{field, issue,
 * description}]}`, the issue naming the reason (INSTRUMENT_DECLINED); OAuth2: `{error,
 * error_description}`. debug_id is what PayPal support asks for, so it stays in the message.
 */
import { firstRecord, text, type ErrorBodyReader } from '../core/error-body';

export const paypalErrorBody: ErrorBodyReader = (body) => {
  const detail = firstRecord(body.details);
  const message = text(detail?.description) ?? text(body.message) ?? text(body.error_description);
  const debugId = text(body.debug_id);
  return {
    code: text(detail?.issue) ?? text(body.name) ?? text(body.error),
    message: debugId ? `${message ?? 'failed'} (debug_id ${debugId})` : message,
  };
};
