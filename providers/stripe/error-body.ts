/** Stripe's failed answers: `{error:{type, code?, decline_code?, message}}`. */
import { recordAt, text, type ErrorBodyReader } from '../core/error-body';

/** The code names the reason (card_declined), decline_code only refines a card decline, type is the last resort (api_error). */
export const stripeErrorBody: ErrorBodyReader = (body) => {
  const error = recordAt(body, 'error');
  return { code: text(error?.code) ?? text(error?.decline_code) ?? text(error?.type), message: text(error?.message) };
};
