/** The Geocoding API's failed answers: `{status: "REQUEST_DENIED", error_message, results: []}`, also inside a 200. */
import { text, type ErrorBodyReader } from '../core/error-body';

export const googleMapsErrorBody: ErrorBodyReader = (body) => ({ code: text(body.status), message: text(body.error_message) });
