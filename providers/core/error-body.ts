/**
 * Reading a provider's own error code and message from a failed answer's body. Each provider
 * folder declares how its answers name the reason (`errorBody` in its index.ts); classify.ts
 * reads every answer through `readErrorBody` with that reader, or the generic one.
 */

/** The provider's own error code and message, as its failed answer names them. */
export interface ProviderErrorBody {
  code: string | null;
  message: string | null;
}

/** How one provider's failed answers name the reason, from the parsed JSON object of the body. */
export type ErrorBodyReader = (body: Record<string, unknown>) => ProviderErrorBody;

/** The code and message of a failed answer: text bodies as the message, objects through `reader` (or the generic reading). */
export function readErrorBody(reader: ErrorBodyReader | undefined, body: unknown): ProviderErrorBody {
  if (typeof body === 'string') return { code: null, message: body.trim() === '' ? null : body.trim() };
  if (!isRecord(body)) return { code: null, message: null };
  return (reader ?? genericErrorBody)(body);
}

/** `{error:{code|type, message}}`, or `{code, message|detail|title}` / `{error: "text"}`. */
export const genericErrorBody: ErrorBodyReader = (body) => {
  const error = body.error;
  if (isRecord(error)) return { code: text(error.code) ?? text(error.type), message: text(error.message) };
  return { code: text(body.code), message: text(body.message) ?? text(error) ?? text(body.detail) ?? text(body.title) };
};

/**
 * Google APIs' error format (Calendar, Sheets): `{error:{code, message, status?, errors:[{domain,
 * reason}]}}`; Sheets v4 has no errors[], its status names the reason (INVALID_ARGUMENT).
 */
export const googleApiErrorBody: ErrorBodyReader = (body) => {
  const error = recordAt(body, 'error');
  return { code: text(firstRecord(error?.errors)?.reason) ?? text(error?.status), message: text(error?.message) };
};

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function recordAt(value: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
  const child = value[key];
  return isRecord(child) ? child : undefined;
}

export function firstRecord(value: unknown): Record<string, unknown> | undefined {
  const first: unknown = Array.isArray(value) ? value[0] : undefined;
  return isRecord(first) ? first : undefined;
}

/** A non-empty string, or a finite number as text; null otherwise. */
export function text(value: unknown): string | null {
  if (typeof value === 'string') return value === '' ? null : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}
