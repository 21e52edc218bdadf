/** Twilio's failed answers: `{code: 21211, message, more_info, status}`. */
import { text, type ErrorBodyReader } from '../core/error-body';

export const twilioErrorBody: ErrorBodyReader = (body) => ({ code: text(body.code), message: text(body.message) });
