/**
 * The contract every webhook signature scheme implements: verify the raw request against the
 * source's live secrets, then extract the provider's events from it. Each provider folder's
 * webhook.ts implements it; the webhook route picks the scheme from the source's configuration.
 */
import { z } from 'zod';

/** A provider's HTTP request exactly as received. */
export interface InboundWebhook {
  /** The body bytes as received (signatures are over these, never over re-serialised JSON). */
  rawBody: Buffer;
  /** Header names lower-cased. */
  headers: Readonly<Record<string, string | undefined>>;
  /** The full public URL the provider called (scheme, host, path and query), e.g. for Twilio. */
  url: string;
  /** Seconds since the epoch, for timestamp tolerance (injectable for tests). */
  nowSeconds: number;
}

export type VerifyResult = { ok: true } | { ok: false; reason: string };

/** One provider event found in a verified request. */
export interface ExtractedEvent {
  /** The provider's id for this event (becomes part of the workflow id and the ledger key). */
  eventId: string;
  eventType: string;
  payload: Record<string, unknown>;
}

/** 400: the request verified but its body is not what the scheme expects. */
export type ExtractResult = { ok: true; events: ExtractedEvent[] } | { ok: false; reason: string; fields?: Record<string, string> };

export interface SignatureScheme<Options = Record<string, never>> {
  /**
   * Content types the provider sends (lower-case, without parameters); others get 415. An empty
   * list means any content type, or none: for bodiless notifications such as Google's push channels.
   */
  contentTypes: readonly string[];
  /** Constant-time checks only; `secrets` are all live secrets of the source (rotation). */
  verify(request: InboundWebhook, secrets: readonly string[], options: Options): VerifyResult;
  extract(request: InboundWebhook, options: Options): ExtractResult;
}

/** Options of the schemes that check a signed timestamp (Stripe, SendGrid). */
export const toleranceOptions = z.strictObject({ toleranceSeconds: z.number().int().nonnegative().default(300) });
/** Options of the schemes that take none. */
export const noOptions = z.strictObject({});
