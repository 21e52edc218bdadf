/** Yandex Geocoder's failed answers: `{statusCode: 403, error: "Forbidden", message: "Invalid api key"}`. */
import { text, type ErrorBodyReader } from '../core/error-body';

export const yandexMapsErrorBody: ErrorBodyReader = (body) => ({ code: text(body.error), message: text(body.message) });
