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
 *
 * Which steps are critical is declared in `bookingSagaSteps` (contracts/call.ts): the charge and the
 * calendar event are; the confirmations are not. A failed confirmation never undoes the booking:
 * the saga completes and starts `sagaStepFollowUp`, which raises an alert and retries the step on
 * SAGA_FOLLOW_UP_SCHEDULE (graceful degradation). Runs started before that (no
 * `noncritical-steps` marker) undo everything on any failure, as they began.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ApplicationFailure, patched, proxyLocalActivities, setHandler, sleep, startChild, workflowInfo } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { startAttributes } from '../contracts/search-attributes';
import {
  bookingSagaSteps,
  bookingStatusQuery,
  sagaFollowUpAlertRule,
  sagaFollowUpWorkflowId,
  type ProviderCallInput,
  type SagaFollowUpInput,
  type SagaFollowUpResult,
  type BookingRequest,
  type BookingStatus,
  type BookingStep,
  type CallPriority,
  type ProviderCallResult,
} from '../contracts/call';
import { executeProviderCall } from './provider-calls';
import { localActivityOptions } from './policies';
import { failureOf } from './steps';

type Activities = ReturnType<typeof createActivities>;

const { raiseAlert } = proxyLocalActivities<Activities>(localActivityOptions('raiseAlert'));
const { resolveAlert } = proxyLocalActivities<Activities>(localActivityOptions('resolveAlert'));
const { planSagaFollowUp } = proxyLocalActivities<Activities>(localActivityOptions('planSagaFollowUp'));

export interface BookingResult {
  /** The Stripe payment intent, when Stripe charged. */
  paymentIntentId: string | null;
  /** The provider that charged (registry name) and its charge id. */
  chargedBy: string;
  chargeId: string;
  calendarEventId: string;
  /** Null when the SMS failed and is being retried by its follow-up (see `followUps`). */
  smsSentBy: string | null;
  emailMessageId: string | null;
  /** Non-critical steps that failed; each is retried by its follow-up workflow (absent when none did). */
  followUps?: BookingStep[];
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
    followUps: [],
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
    const smsCall: ProviderCallInput = { tenant: booking.tenant, provider: 'twilio', operation: 'sendSms', params: { to: booking.phone, body: text }, priority: 'high' };
    const emailCall: ProviderCallInput = {
      tenant: booking.tenant,
      provider: 'sendgrid',
      operation: 'sendMail',
      params: { to: booking.email, subject: 'Booking confirmed', text },
      priority: 'high',
    };
    const [sms, email] = await Promise.allSettled([
      step('sms', smsCall.provider, smsCall.operation, smsCall.params, smsCall.priority),
      step('email', emailCall.provider, emailCall.operation, emailCall.params, emailCall.priority),
    ]);
    // Read after the steps, where a failure is known: runs from before it undo everything.
    if ((sms.status === 'rejected' || email.status === 'rejected') && patched('noncritical-steps')) {
      for (const [name, call, settled] of [['sms', smsCall, sms], ['email', emailCall, email]] as const) {
        if (settled.status === 'fulfilled' || bookingSagaSteps[name].critical) continue;
        const error = failureOf(settled.reason).message;
        await followUp({ saga: workflowInfo().workflowId, step: name, call, error });
        status.followUps!.push({ step: name, workflowId: sagaFollowUpWorkflowId(workflowInfo().workflowId, name), error });
      }
    }
    if (sms.status === 'rejected' && !status.followUps!.some((f) => f.step === 'sms')) throw sms.reason;
    if (email.status === 'rejected' && !status.followUps!.some((f) => f.step === 'email')) throw email.reason;

    status.status = 'completed';
    return {
      paymentIntentId: status.paymentIntentId,
      chargedBy,
      chargeId,
      calendarEventId,
      smsSentBy: sms.status === 'fulfilled' ? sms.value.servedBy : null,
      emailMessageId: email.status === 'fulfilled' && typeof email.value.data.messageId === 'string' ? email.value.data.messageId : null,
      ...(status.followUps!.length > 0 ? { followUps: status.followUps!.map((f) => f.step) } : {}),
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

/** Starts the step's follow-up; it outlives the saga (ABANDON), and a retried task finds it started. */
async function followUp(input: SagaFollowUpInput): Promise<void> {
  try {
    await startChild(sagaStepFollowUp, {
      workflowId: sagaFollowUpWorkflowId(input.saga, input.step),
      args: [input],
      parentClosePolicy: 'ABANDON',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: startAttributes('sagaStepFollowUp', { provider: input.call.provider, tenant: input.call.tenant }),
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/**
 * sagaStepFollowUp: a failed non-critical saga step, retried until it succeeds or the schedule
 * (SAGA_FOLLOW_UP_SCHEDULE) runs out. An alert (rule `saga-step-failed`, medium) is open meanwhile:
 * resolved by the success, left firing for a person when every retry failed.
 */
export async function sagaStepFollowUp(input: SagaFollowUpInput): Promise<SagaFollowUpResult> {
  const fingerprint = `${input.saga}:${input.step}`;
  await raiseAlert({
    rule: sagaFollowUpAlertRule,
    fingerprint,
    severity: 'medium',
    summary: `${input.step} of ${input.saga} failed and is being retried: ${input.error}`,
    provider: input.call.provider,
    details: { saga: input.saga, step: input.step, operation: input.call.operation, tenant: input.call.tenant },
  });
  const { waits } = await planSagaFollowUp();
  let error = input.error;
  for (const [index, wait] of waits.entries()) {
    await sleep(wait);
    try {
      const result = await executeProviderCall(input.call);
      await resolveAlert({ rule: sagaFollowUpAlertRule, fingerprint, reason: `${input.step} succeeded on follow-up attempt ${index + 1}` });
      return { ok: true, attempts: index + 1, servedBy: result.servedBy, error: null };
    } catch (err) {
      error = failureOf(err).message;
    }
  }
  return { ok: false, attempts: waits.length, servedBy: null, error };
}
