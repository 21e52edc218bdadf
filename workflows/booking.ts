/**
 * bookingSaga: the seeds' booking flow as a saga. charge the payment → create the calendar event
 * → send the confirmation SMS and email. Each completed step registers its compensation right
 * away; a failure runs them in reverse (delete the event, refund the payment), each itself a
 * durable, patiently retried provider call, and the workflow ends failed with a status that lists
 * what was undone.
 *
 * The charge is the provider-neutral `charge` operation, failover-capable: with Stripe's circuit
 * open it goes to Stripe's declared backup (PayPal), and the refund is sent to whichever provider
 * charged, naming its charge id. Runs started before that (no `payment-failover` marker) keep the
 * Stripe-only charge and refund they began with.
 */
import { ApplicationFailure, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import {
  bookingStatusQuery,
  type BookingRequest,
  type BookingStatus,
  type BookingStep,
  type CallPriority,
  type ProviderCallResult,
} from '../contracts/call';
import { executeProviderCall } from './provider-calls';
import { failureOf } from './steps';

export interface BookingResult {
  /** The Stripe payment intent, when Stripe charged. */
  paymentIntentId: string | null;
  /** The provider that charged (registry name) and its charge id. */
  chargedBy: string;
  chargeId: string;
  calendarEventId: string;
  smsSentBy: string;
  emailMessageId: string | null;
}

interface Compensation {
  step: BookingStep;
  action: string;
  run(): Promise<unknown>;
}

class StepFailed extends Error {
  constructor(
    readonly step: BookingStep,
    failure: unknown,
  ) {
    super(failureOf(failure).message);
  }
}

export async function bookingSaga(booking: BookingRequest): Promise<BookingResult> {
  const status: BookingStatus = {
    status: 'running',
    completedSteps: [],
    failedStep: null,
    error: null,
    undone: [],
    paymentIntentId: null,
    chargedBy: null,
    chargeId: null,
    calendarEventId: null,
  };
  setHandler(bookingStatusQuery, () => status);
  const compensations: Compensation[] = [];

  const step = async (
    name: BookingStep,
    provider: string,
    operation: string,
    params: Record<string, unknown>,
    priority: CallPriority = 'high',
  ): Promise<ProviderCallResult> => {
    try {
      const result = await executeProviderCall({ tenant: booking.tenant, provider, operation, params, priority });
      status.completedSteps.push(name);
      return result;
    } catch (err) {
      throw new StepFailed(name, err);
    }
  };
  const undo = (provider: string, operation: string, params: Record<string, unknown>) => () =>
    executeProviderCall({ tenant: booking.tenant, provider, operation, params, priority: 'critical' }, { compensation: true });

  try {
    const payment = {
      amount: booking.amount,
      currency: booking.currency,
      customer: booking.customer,
      description: booking.summary,
      metadata: { booking: workflowInfo().workflowId },
    };
    let chargedBy: string;
    let chargeId: string;
    // Read before the first activity (see workflows/webhooks.ts). The createPaymentIntent branch can
    // go once no booking started before failover is open or within the namespace's retention and
    // booking-saga-completed/-compensated in test/replay/histories/ are retired: deprecatePatch()
    // for one release, then nothing.
    if (patched('payment-failover')) {
      const vault = booking.paypalVaultId === undefined ? {} : { paypalVaultId: booking.paypalVaultId };
      const charge = await step('charge', booking.paymentProvider ?? 'stripe', 'charge', { ...payment, ...vault });
      chargedBy = charge.servedBy;
      chargeId = String(charge.data.chargeId);
      status.paymentIntentId = typeof charge.data.paymentIntentId === 'string' ? charge.data.paymentIntentId : null;
      compensations.push({
        step: 'charge',
        action: `refund payment ${chargeId} on ${chargedBy}`,
        run: undo(chargedBy, 'refundCharge', { chargeId }),
      });
    } else {
      const charge = await step('charge', 'stripe', 'createPaymentIntent', payment);
      chargedBy = 'stripe';
      chargeId = String(charge.data.id);
      status.paymentIntentId = chargeId;
      compensations.push({ step: 'charge', action: `refund payment ${chargeId}`, run: undo('stripe', 'refund', { paymentIntentId: chargeId }) });
    }
    status.chargedBy = chargedBy;
    status.chargeId = chargeId;

    const event = await step('calendar', 'google-calendar', 'insertEvent', {
      calendarId: booking.calendarId,
      summary: booking.summary,
      start: booking.start,
      end: booking.end,
    });
    const calendarEventId = String(event.data.id);
    status.calendarEventId = calendarEventId;
    compensations.push({
      step: 'calendar',
      action: `delete calendar event ${calendarEventId}`,
      run: undo('google-calendar', 'deleteEvent', { calendarId: booking.calendarId, eventId: calendarEventId }),
    });

    const text = `Booking confirmed: ${booking.summary} at ${booking.start}`;
    const [sms, email] = await Promise.allSettled([
      step('sms', 'twilio', 'sendSms', { to: booking.phone, body: text }),
      step('email', 'sendgrid', 'sendMail', { to: booking.email, subject: 'Booking confirmed', text }),
    ]);
    if (sms.status === 'rejected') throw sms.reason;
    if (email.status === 'rejected') throw email.reason;

    status.status = 'completed';
    return {
      paymentIntentId: status.paymentIntentId,
      chargedBy,
      chargeId,
      calendarEventId,
      smsSentBy: sms.value.servedBy,
      emailMessageId: typeof email.value.data.messageId === 'string' ? email.value.data.messageId : null,
    };
  } catch (err) {
    const failed = err instanceof StepFailed ? err : new StepFailed('charge', err);
    status.status = 'compensating';
    status.failedStep = failed.step;
    status.error = failed.message;
    for (const compensation of [...compensations].reverse()) {
      try {
        await compensation.run();
        status.undone.push({ step: compensation.step, action: compensation.action, ok: true });
      } catch (undoErr) {
        status.undone.push({ step: compensation.step, action: compensation.action, ok: false, error: failureOf(undoErr).message });
      }
    }
    status.status = 'failed';
    const undone = status.undone.map((u) => `${u.action}${u.ok ? '' : ' (FAILED)'}`).join(', ') || 'nothing to undo';
    throw ApplicationFailure.create({
      message: `booking failed at ${failed.step}: ${failed.message}; undone: ${undone}`,
      type: 'BookingFailed',
      nonRetryable: true,
      details: [status],
    });
  }
}
