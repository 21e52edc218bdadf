/**
 * Generic HMAC webhooks (`/webhooks/generic/:source`): the many providers that sign the body, or
 * "{timestamp}.{body}", with a shared secret but ship no verifier of their own (Shopify, and
 * others). Each source declares how it signs in options validated by `genericSourceOptions`, so a
 * new source is configuration, not code.
 */
import { createHash, createHmac } from 'node:crypto';
import { z } from 'zod';
import { digestsEqual } from '../core/constant-time';
import { eventIdPattern, isJsonObject, noSecretConfigured, parseJsonBody } from '../core/event-parsing';
import type { ExtractResult, InboundWebhook, SignatureScheme, VerifyResult } from '../core/scheme-types';

/** Header names as HTTP tokens, lower-cased because InboundWebhook's header names are. */
const headerName = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/, 'must be an HTTP header name')
  .transform((name) => name.toLowerCase());

/** "data.object.id": object keys separated by dots; a numeric segment also indexes an array. */
const fieldPath = z.string().regex(/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/, 'must be a dot path such as "data.id"');

export const genericSourceOptions = z
  .strictObject({
    /** The header holding the signature. */
    header: headerName,
    algorithm: z.enum(['sha256', 'sha1']).default('sha256'),
    encoding: z.enum(['hex', 'base64']).default('hex'),
    /** Text before the encoded digest in the header, e.g. "sha256="; "" for none. */
    prefix: z.string().max(50).default(''),
    /** Header with the signing time in Unix seconds; when set it is required and must be within the tolerance. */
    timestampHeader: headerName.optional(),
    /** What was signed: the raw body, or "{timestamp}." followed by the raw body. */
    signedPayload: z.enum(['body', 'timestamp.body']).default('body'),
    /** Largest accepted distance, stale or future, between the timestamp header and now. */
    toleranceSeconds: z.number().int().positive().default(300),
    /** Header holding the event id (takes precedence over eventIdField). */
    eventIdHeader: headerName.optional(),
    /** Dot path of the event id in the JSON body. */
    eventIdField: fieldPath.optional(),
    /** Dot path of the event type in the JSON body; without it every event's type is "event". */
    eventTypeField: fieldPath.optional(),
  })
  .refine((options) => options.signedPayload === 'body' || options.timestampHeader !== undefined, {
    message: 'signedPayload "timestamp.body" needs a timestampHeader',
    path: ['timestampHeader'],
  });

/** Options as declared in a source's configuration (defaults may be left out). */
export type GenericSourceOptionsInput = z.input<typeof genericSourceOptions>;
/** Options after validation: what the scheme receives. */
export type GenericHmacOptions = z.output<typeof genericSourceOptions>;

const digestLength = { sha256: 32, sha1: 20 } as const;
const encodedDigest = { hex: /^[0-9a-fA-F]+$/, base64: /^[A-Za-z0-9+/]+={0,2}$/ } as const;

function verifyGenericHmac(request: InboundWebhook, secrets: readonly string[], options: GenericHmacOptions): VerifyResult {
  const header = request.headers[options.header];
  if (!header) return { ok: false, reason: `missing ${options.header} header` };
  if (!header.startsWith(options.prefix)) return { ok: false, reason: `${options.header} does not start with "${options.prefix}"` };
  const encoded = header.slice(options.prefix.length).trim();
  const received = encodedDigest[options.encoding].test(encoded) ? Buffer.from(encoded, options.encoding) : undefined;
  if (received?.length !== digestLength[options.algorithm]) {
    return { ok: false, reason: `${options.header} is not a ${options.encoding} ${options.algorithm} digest` };
  }

  let signed = request.rawBody;
  if (options.timestampHeader !== undefined) {
    const timestamp = request.headers[options.timestampHeader];
    if (!timestamp) return { ok: false, reason: `missing ${options.timestampHeader} header` };
    if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: `${options.timestampHeader} is not a Unix time in seconds` };
    const age = request.nowSeconds - Number(timestamp);
    if (age > options.toleranceSeconds) return { ok: false, reason: 'timestamp is older than the tolerance' };
    if (-age > options.toleranceSeconds) return { ok: false, reason: 'timestamp is further in the future than the tolerance' };
    if (options.signedPayload === 'timestamp.body') signed = Buffer.concat([Buffer.from(`${timestamp}.`), request.rawBody]);
  }

  if (secrets.length === 0) return noSecretConfigured;
  for (const secret of secrets) {
    const expected = createHmac(options.algorithm, secret).update(signed).digest();
    if (digestsEqual(received, expected)) return { ok: true };
  }
  return { ok: false, reason: `${options.header} does not match the signed payload for any live secret` };
}

/** The value at a dot path, following own properties only (a path cannot reach prototypes). */
function valueAtPath(root: unknown, path: string): unknown {
  let current = root;
  for (const segment of path.split('.')) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

function scalarAt(body: Record<string, unknown>, path: string): string | undefined {
  const value = valueAtPath(body, path);
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value)) ? String(value) : undefined;
}

function extractGenericEvent(request: InboundWebhook, options: GenericHmacOptions): ExtractResult {
  const body = parseJsonBody(request.rawBody);
  if (!body.ok) return body;
  if (!isJsonObject(body.value)) return { ok: false, reason: 'body is not a JSON object' };
  const payload = body.value;

  let eventId: string | undefined;
  let idSource: string;
  if (options.eventIdHeader !== undefined) {
    idSource = options.eventIdHeader;
    eventId = request.headers[options.eventIdHeader];
  } else if (options.eventIdField !== undefined) {
    idSource = options.eventIdField;
    eventId = scalarAt(payload, options.eventIdField);
  } else {
    // No declared id: the body's digest stands in, so a byte-identical redelivery is still a duplicate.
    idSource = '(body)';
    eventId = `sha256:${createHash('sha256').update(request.rawBody).digest('hex')}`;
  }
  if (eventId === undefined || !eventIdPattern.test(eventId)) {
    return { ok: false, reason: 'event id is missing or invalid', fields: { [idSource]: 'must be 1-255 characters of A-Z a-z 0-9 _ . : -' } };
  }

  let eventType = 'event';
  if (options.eventTypeField !== undefined) {
    const declared = scalarAt(payload, options.eventTypeField);
    if (declared === undefined || declared.length === 0 || declared.length > 255) {
      return { ok: false, reason: 'event type is missing or invalid', fields: { [options.eventTypeField]: 'must be a string of 1-255 characters' } };
    }
    eventType = declared;
  }
  return { ok: true, events: [{ eventId, eventType, payload }] };
}

export const genericHmacScheme: SignatureScheme<GenericHmacOptions> = {
  contentTypes: ['application/json'],
  verify: verifyGenericHmac,
  extract: extractGenericEvent,
};
