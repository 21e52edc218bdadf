/**
 * The vocabulary shared by the fake provider server, its provider modules and the tests: what a
 * recorded request, a fault rule and the state summary look like (see /test/fakes/README.md).
 * provider-server.ts re-exports the public part, so tests import from one place.
 */

/** Provider ids as used in fault rules, records and filters (not Switchyard's registry names). */
export const PROVIDER_IDS = ['stripe', 'paypal', 'twilio', 'vonage', 'sendgrid', 'google-calendar', 'google-sheets', 'google-maps', 'yandex-maps', 'http', 'openai', 'google-my-business', 'airtable', 'whatsapp', 'monitor'] as const;
export type ProviderId = (typeof PROVIDER_IDS)[number];

export const FAULT_KINDS = ['status', 'rate-limit', 'validation', 'latency', 'hold', 'timeout', 'reset'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultRule {
  provider: ProviderId;
  /** Omitted: every operation of the provider. */
  operation?: string;
  kind: FaultKind;
  /** How many matching requests the rule applies to; omitted: until cleared. */
  times?: number;
  /** `status` kind: the status to answer (default 500). */
  status?: number;
  /** `status` kind: adds Retry-After when set; `rate-limit` kind: Retry-After value (default 1). */
  retryAfterSeconds?: number;
  /** `latency` kind: how long the (already processed) answer is held back; `hold` kind: the longest a held answer waits (default 30 000). */
  latencyMs?: number;
}

/** One request as the fake saw it. */
export interface FakeRequest {
  seq: number;
  /** ISO time of arrival (after the body was read). */
  at: string;
  provider: ProviderId;
  operation: string;
  method: string;
  path: string;
  query: Record<string, string>;
  /** Lower-cased names; Authorization kept as sent so tests can assert on credentials. */
  headers: Record<string, string>;
  /** Parsed form or JSON body, the raw string otherwise, null when empty. */
  body: unknown;
  idempotencyKey: string | null;
  replayed: boolean;
  /** The status answered (or, for a latency fault, about to be answered); null if none is sent. */
  status: number | null;
  fault: FaultKind | null;
}

export interface FakeState {
  /** Stripe payment intents created. */
  charges: number;
  refunds: number;
  sms: { twilio: number; vonage: number };
  mails: number;
  /** WhatsApp template messages accepted. */
  whatsapp: number;
  /** Numbers Twilio holds as opted out (an inbound STOP, … not followed by START, …). */
  twilioOptOuts: string[];
  calendarEvents: { live: number; deleted: number };
  /** Google Sheets: spreadsheets touched, cells written, access tokens issued by the fake token endpoint. */
  sheets: { spreadsheets: number; cellsWritten: number; tokensIssued: number };
  /** Refresh-token grants the fake Google token endpoint answered. */
  googleTokenRefreshes: number;
  /** Google My Business review replies held (one per review: a second reply replaces the first). */
  reviewReplies: number;
  /** Airtable records created. */
  airtableRecords: number;
  /** PayPal: orders created, captures (the charges) and refunds, with their amounts as PayPal holds them. */
  paypal: {
    orders: number;
    captures: Array<{ id: string; orderId: string; currency_code: string; value: string }>;
    refunds: Array<{ id: string; captureId: string; currency_code: string; value: string }>;
  };
}

/** A provider request after the body was read and parsed; what route handlers work from. */
export interface ParsedRequest {
  method: string;
  path: string;
  /** Path plus query string exactly as sent. */
  url: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: unknown;
  bodyFormat: 'json' | 'form' | 'raw' | 'empty';
}

/** What a handler (or a fault) answers; body undefined means an empty body. */
export interface FakeResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}
