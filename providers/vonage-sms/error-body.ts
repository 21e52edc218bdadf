/** Vonage's failed answers. SMS API: `{"error-text"}` or `{messages:[{status, "error-text"}]}`; newer APIs: RFC 7807 `{type, title, detail}`. */
import { firstRecord, text, type ErrorBodyReader } from '../core/error-body';

export const vonageSmsErrorBody: ErrorBodyReader = (body) => {
  const message = firstRecord(body.messages);
  return {
    code: text(body['error-text']) ?? text(message?.['error-text']) ?? text(body.title),
    message: text(body.detail) ?? text(body.error),
  };
};
