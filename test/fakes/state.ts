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
  summary: unknown;
  description?: unknown;
  start: unknown;
  end: unknown;
  created: string;
}

export class ProviderState {
  readonly paymentIntents = new Map<string, PaymentIntent>();
  readonly refunds = new Map<string, Refund>();
  readonly sms = { twilio: 0, vonage: 0 };
  mails = 0;
  /** Keyed by `${calendarId}/${eventId}`: Google event ids are unique per calendar. */
  readonly calendarEvents = new Map<string, { event: CalendarEvent; deleted: boolean }>();

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
      calendarEvents: { live: this.calendarEvents.size - deleted, deleted },
    };
  }

  clear(): void {
    this.paymentIntents.clear();
    this.refunds.clear();
    this.sms.twilio = 0;
    this.sms.vonage = 0;
    this.mails = 0;
    this.calendarEvents.clear();
  }
}
