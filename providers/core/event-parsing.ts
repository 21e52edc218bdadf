/**
 * What every scheme's extraction shares: strict body decoding, the event id charset (ids become
 * part of workflow ids and ledger keys) and 400 reasons that name the offending field.
 */
import { z } from 'zod';
import { issueFields } from '../../lib/zod-issues';
import type { ExtractResult, VerifyResult } from './scheme-types';

/** Ids become part of workflow ids and SQL keys: keep them printable and bounded. */
export const eventIdPattern = /^[A-Za-z0-9_.:-]{1,255}$/;
export const eventIdSchema = z.string().regex(eventIdPattern, 'must be 1-255 characters of A-Z a-z 0-9 _ . : -');
export const eventTypeSchema = z.string().min(1).max(255);

/** Every scheme answers the same way when the source has no live secret. */
export const noSecretConfigured: VerifyResult = { ok: false, reason: 'no signing secret configured' };

/** Replaces every character outside the id charset with "_" and bounds the length. */
export function sanitiseToIdCharset(value: string): string {
  return value.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 255);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes the body as UTF-8, refusing invalid bytes. Libraries that verify over a decoded string
 * replace invalid bytes with U+FFFD, so two different byte sequences would share one signature;
 * refusing them keeps "verified" meaning "these exact bytes were signed".
 */
export function decodeUtf8(rawBody: Buffer): string | undefined {
  try {
    return strictUtf8.decode(rawBody);
  } catch {
    return undefined;
  }
}

export type JsonBodyResult = { ok: true; value: unknown } | { ok: false; reason: string };

/** NUL and unpaired surrogates: valid in JSON text (as escapes), refused by PostgreSQL text and jsonb. */
const unpairedSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const unstorable = (text: string): boolean => text.includes('\u0000') || unpairedSurrogate.test(text);

/**
 * Whether any string or key in a parsed body cannot be stored in the ledger's jsonb payload. Such
 * an event would be accepted, then its ledger write (which never gives up) would fail forever: it
 * is refused as malformed instead. Iterative, so deeply nested JSON cannot overflow the stack.
 */
export function hasUnstorableText(root: unknown): boolean {
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === 'string') {
      if (unstorable(value)) return true;
    } else if (Array.isArray(value)) {
      for (const inner of value as unknown[]) pending.push(inner);
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, inner] of Object.entries(value)) {
        if (unstorable(key)) return true;
        pending.push(inner);
      }
    }
  }
  return false;
}

export const unstorableTextReason = 'body contains a NUL character or an unpaired surrogate, which cannot be stored';

export function parseJsonBody(rawBody: Buffer): JsonBodyResult {
  const text = decodeUtf8(rawBody);
  if (text === undefined) return { ok: false, reason: 'body is not valid UTF-8' };
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (err) {
    return { ok: false, reason: `body is not valid JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  return hasUnstorableText(value) ? { ok: false, reason: unstorableTextReason } : { ok: true, value };
}

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A zod failure as the contract's 400 answer. */
export function invalidBody(reason: string, error: z.ZodError): ExtractResult {
  return { ok: false, reason, fields: issueFields(error) };
}
