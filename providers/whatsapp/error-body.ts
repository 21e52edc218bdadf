/**
 * The Graph API's failed answers: `{error: {message, type, code, error_subcode, error_data:
 * {details}, fbtrace_id}}`. The numeric code is the reason (131047, 132001, 190, …); the
 * details say more than the message ("Message failed to send because more than 24 hours have
 * passed since the customer last replied to this number").
 */
import { recordAt, text, type ErrorBodyReader } from '../core/error-body';

export const whatsappErrorBody: ErrorBodyReader = (body) => {
  const error = recordAt(body, 'error');
  const details = error ? text(recordAt(error, 'error_data')?.details) : null;
  const message = text(error?.message);
  return { code: text(error?.code), message: details && message ? `${message}: ${details}` : (message ?? details) };
};
