/**
 * What the fake providers have "done": payment intents, refunds, SMS, mails and calendar events.
 * Tests assert on these side effects (did the retry charge twice?) rather than on responses alone.
 */
import type { FakeState } from './types';

export interface PaymentIntent {
  id: string;
  object: 'payment_intent';
  amount: number;
  amount_received: number;
  currency: string;
  status: 'succeeded';
  customer: string | null;
  description: string | null;
  metadata: Record<string, string>;
  created: number;
}

export interface Refund {
  id: string;
  object: 'refund';
  amount: number;
  payment_intent: string;
  status: 'succeeded';
}

export interface CalendarEvent {
  kind: 'calendar#event';
  id: string;
  status: 'confirmed';
  htmlLink: string;
  /** Changes on every write; `If-Match` with an older one answers 412 conditionNotMet. */
  etag: string;
  summary: unknown;
  description?: unknown;
  location?: unknown;
  attendees?: unknown;
  start: unknown;
  end: unknown;
  created: string;
  updated: string;
  sequence: number;
}

export type SheetCell = string | number | boolean | null;
/** Sheet name → rows of cells (sparse: missing rows and cells are empty). */
export type Spreadsheet = Map<string, SheetCell[][]>;

export interface GoogleAccessToken {
  /** Epoch ms. */
  expiresAt: number;
  scopes: string[];
  /** The service account (client_email) it was issued to. */
  issuer: string;
}

export interface PayPalAmount {
  currency_code: string;
  value: string;
}

export interface PayPalCapture {
  id: string;
  status: 'COMPLETED';
  amount: PayPalAmount;
  final_capture: true;
  create_time: string;
  update_time: string;
}

export interface PayPalOrder {
  id: string;
  intent: 'CAPTURE';
  status: 'CREATED' | 'APPROVED' | 'COMPLETED';
  purchase_units: Array<Record<string, unknown> & { reference_id: string; amount: PayPalAmount }>;
  payment_source?: unknown;
  create_time: string;
  capture?: PayPalCapture;
}

export interface PayPalRefund {
  id: string;
  status: 'COMPLETED';
  amount: PayPalAmount;
  captureId: string;
  create_time: string;
}

export class ProviderState {
  readonly paymentIntents = new Map<string, PaymentIntent>();
  readonly refunds = new Map<string, Refund>();
  readonly sms = { twilio: 0, vonage: 0 };
  mails = 0;
  /** WhatsApp template messages accepted. */
  whatsappMessages = 0;
  /** Numbers that texted Twilio an opt-out keyword (STOP, …) and not yet an opt-in one (START, …): Twilio refuses SMS to them with 21610. */
  readonly twilioOptOuts = new Set<string>();
  /** Keyed by `${calendarId}/${eventId}`: Google event ids are unique per calendar. */
  readonly calendarEvents = new Map<string, { event: CalendarEvent; deleted: boolean }>();
  /** PayPal access tokens issued (token → expiry, epoch ms), orders by id, captures by id → order id, refunds. */
  readonly paypalTokens = new Map<string, number>();
  readonly paypalOrders = new Map<string, PayPalOrder>();
  readonly paypalCaptures = new Map<string, string>();
  readonly paypalRefunds: PayPalRefund[] = [];
  /** Google Sheets by spreadsheet id; cells written in total. */
  readonly spreadsheets = new Map<string, Spreadsheet>();
  sheetCellsWritten = 0;
  /** Service accounts the fake token endpoint trusts (client_email → public key PEM): configuration, kept by clear(). */
  readonly googleServiceAccounts = new Map<string, string>();
  /** Access tokens issued by the fake token endpoint. */
  readonly googleAccessTokens = new Map<string, GoogleAccessToken>();
  /** How long the fake token endpoint's tokens live (configuration, kept by clear(); tests shorten it to cross an expiry). */
  googleTokenLifetimeSeconds = 3599;
  /** Refresh-token grants answered by the fake token endpoint. */
  googleTokenRefreshes = 0;
  /** Google My Business review replies by `${accountId}/${locationId}/${reviewId}`. */
  readonly reviewReplies = new Map<string, { comment: string; updateTime: string }>();
  /** Airtable records created, by `${baseId}/${table}`. */
  readonly airtableRecords = new Map<string, Array<{ id: string; createdTime: string; fields: Record<string, unknown> }>>();

  refundedAmount(paymentIntentId: string): number {
    let total = 0;
    for (const refund of this.refunds.values()) {
      if (refund.payment_intent === paymentIntentId) total += refund.amount;
    }
    return total;
  }

  summary(): FakeState {
    let deleted = 0;
    for (const entry of this.calendarEvents.values()) if (entry.deleted) deleted++;
    return {
      charges: this.paymentIntents.size,
      refunds: this.refunds.size,
      sms: { ...this.sms },
      mails: this.mails,
      whatsapp: this.whatsappMessages,
      twilioOptOuts: [...this.twilioOptOuts],
      calendarEvents: { live: this.calendarEvents.size - deleted, deleted },
      sheets: { spreadsheets: this.spreadsheets.size, cellsWritten: this.sheetCellsWritten, tokensIssued: this.googleAccessTokens.size },
      googleTokenRefreshes: this.googleTokenRefreshes,
      reviewReplies: this.reviewReplies.size,
      airtableRecords: [...this.airtableRecords.values()].reduce((sum, records) => sum + records.length, 0),
      paypal: {
        orders: this.paypalOrders.size,
        captures: [...this.paypalOrders.values()].flatMap((order) =>
          order.capture ? [{ id: order.capture.id, orderId: order.id, ...order.capture.amount }] : [],
        ),
        refunds: this.paypalRefunds.map((refund) => ({ id: refund.id, captureId: refund.captureId, ...refund.amount })),
      },
    };
  }

  clear(): void {
    this.paymentIntents.clear();
    this.refunds.clear();
    this.sms.twilio = 0;
    this.sms.vonage = 0;
    this.mails = 0;
    this.whatsappMessages = 0;
    this.twilioOptOuts.clear();
    this.calendarEvents.clear();
    this.paypalTokens.clear();
    this.paypalOrders.clear();
    this.paypalCaptures.clear();
    this.paypalRefunds.length = 0;
    this.spreadsheets.clear();
    this.sheetCellsWritten = 0;
    this.googleAccessTokens.clear();
    this.googleTokenRefreshes = 0;
    this.reviewReplies.clear();
    this.airtableRecords.clear();
  }
}
