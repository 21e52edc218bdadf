/**
 * Subscriber deliveries: which subscribers want an event, and one signed POST of it per attempt.
 * The body is read from the webhook ledger (not carried in workflow histories) and signed with
 * Standard Webhooks using the subscriber's secret; the message id is the delivery id, so a
 * subscriber can drop a redelivery it already processed. One attempt per activity: the workflow
 * owns the (long) retry schedule with durable timers.
 * Each POST goes through the outbound policy (lib/security/outbound-policy.ts), checked against the
 * address the subscriber's host resolves to when connecting: a refused address fails the delivery
 * permanently (NotDeliverable, dead-lettered at once with the reason). Redirects are not followed
 * (undici's default): a 3xx is a failed attempt like any other non-2xx.
 * The signing secret is stored encrypted (lib/security/stored-secrets.ts) and opened for each attempt only;
 * one that cannot be opened (no or an unknown master key, an altered row) fails the attempt with
 * the reason, retried on the schedule like an unreachable subscriber (an operator can fix it).
 * Attempts and finished deliveries are counted by outcome only (never by subscriber or tenant, which
 * are unbounded) on a registry of their own that the worker serves on its /metrics.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import type { Pool } from 'pg';
import { Counter, Registry } from 'prom-client';
import { Webhook } from 'standardwebhooks';
import { Agent, request } from 'undici';
import type { Keyring } from '../lib/security/keyring';
import { outboundRefusal, strictOutboundPolicy, type OutboundPolicy } from '../lib/security/outbound-policy';
import { SecretBoxError } from '../lib/security/secret-box';
import { configuredSecretsKeyring, openSubscriberSecret } from '../lib/security/stored-secrets';
import { finishDeliveryRow, recordDeliveryAttempt, recordDeliveryAttemptError, upsertPendingDelivery } from '../lib/data/deliveries';
import { matchingSubscriberIds, subscriberEnabled, subscriberTarget } from '../lib/data/subscribers';
import { webhookEventBody } from '../lib/data/webhook-events';
import { deliveryErrorTypes } from '../contracts/errors';
import type { DeliveryAttempt, DeliveryInput, DeliveryOutcome, DeliveryPlan } from '../contracts/delivery';
import { deliveryRetrySchedule } from '../workflows/policies';
import { heartbeatWhile } from './heartbeat';

export const deliveryMetricsRegistry = new Registry();

/** What one POST attempt came to: a bounded set, whatever the subscriber answers. */
export const deliveryAttemptOutcomes = ['success', 'http_error', 'unreachable', 'gone', 'refused', 'secret_unavailable', 'not_deliverable'] as const;
type DeliveryAttemptOutcome = (typeof deliveryAttemptOutcomes)[number];
const deliveryAttempts = new Counter<'outcome'>({
  name: 'delivery_attempts_total',
  help: 'Subscriber delivery attempts by outcome (success, http_error, unreachable, gone, refused, secret_unavailable, not_deliverable)',
  labelNames: ['outcome'],
  registers: [deliveryMetricsRegistry],
});
/** How a delivery ends (finishDelivery); dead_lettered ones wait for a replay. */
export const deliveryFinalStatuses = ['delivered', 'dead_lettered', 'skipped'] as const;
const deliveriesFinished = new Counter<'status'>({
  name: 'deliveries_finished_total',
  help: 'Deliveries finished, by final status (delivered, dead_lettered, skipped), each counted once',
  labelNames: ['status'],
  registers: [deliveryMetricsRegistry],
});
// Zeros from the start: every rate and ratio exists before the first delivery.
for (const outcome of deliveryAttemptOutcomes) deliveryAttempts.inc({ outcome }, 0);
for (const status of deliveryFinalStatuses) deliveriesFinished.inc({ status }, 0);
const countAttempt = (outcome: DeliveryAttemptOutcome): void => deliveryAttempts.inc({ outcome });

export interface DeliveryDeps {
  pool: Pool;
  /** Overrides the policy table's schedule (tests). */
  retrySchedule?: readonly Duration[];
  timeoutMs?: number;
  /** Which addresses deliveries may reach (OUTBOUND_ALLOW…); default: the strict policy. */
  outbound?: OutboundPolicy;
  /** SECRETS_MASTER_KEYS, which opens the subscribers' signing secrets; default: the process's configuration. */
  secretsKeyring?: Keyring;
}

export function createDeliveryActivities({ pool, retrySchedule, timeoutMs = 10_000, outbound = strictOutboundPolicy, secretsKeyring = configuredSecretsKeyring() }: DeliveryDeps) {
  // Short keep-alive: deliveries to one subscriber come in bursts; idle sockets should not linger.
  const agent = new Agent({ keepAliveTimeout: 4_000, keepAliveMaxTimeout: 10_000, connect: outbound.connector() });
  return {
    async matchSubscribers(event: { tenant: string; provider: string; eventType: string }): Promise<{ subscriberIds: string[] }> {
      return { subscriberIds: await matchingSubscriberIds(pool, event) };
    },

    async planDelivery(input: DeliveryInput): Promise<DeliveryPlan> {
      await upsertPendingDelivery(pool, input);
      const subscriber = await subscriberEnabled(pool, input.tenant, input.subscriberId);
      const reason = !subscriber ? 'subscriber deleted' : subscriber.enabled ? null : 'subscriber disabled';
      return { active: reason === null, reason, retryScheduleMs: (retrySchedule ?? deliveryRetrySchedule).map((d) => msToNumber(d)) };
    },

    async deliverToSubscriber(input: DeliveryInput): Promise<DeliveryAttempt> {
      const { attempt } = Context.current().info;
      const subscriber = await subscriberTarget(pool, input.tenant, input.subscriberId);
      const event = await webhookEventBody(pool, input);
      if (!subscriber || !event || event.payload === null) {
        countAttempt('not_deliverable');
        throw ApplicationFailure.create({
          message: !subscriber
            ? 'subscriber deleted'
            : !event
              ? `event ${input.provider}:${input.eventId} is not in the ledger`
              : `event ${input.provider}:${input.eventId} was pruned by retention (its body is gone)`,
          type: deliveryErrorTypes.notDeliverable,
          nonRetryable: true,
        });
      }
      const body = JSON.stringify({
        id: input.eventId,
        type: input.eventType,
        provider: input.provider,
        tenant: input.tenant,
        receivedAt: event.received_at.toISOString(),
        data: event.payload,
      });
      let signingSecret: string;
      try {
        signingSecret = openSubscriberSecret(secretsKeyring, subscriber.tenant, subscriber.id, subscriber);
      } catch (err) {
        if (!(err instanceof SecretBoxError)) throw err;
        const message = `subscriber signing secret cannot be opened: ${err.message}`;
        await recordDeliveryAttemptError(pool, input.deliveryId, message);
        countAttempt('secret_unavailable');
        throw ApplicationFailure.create({ message, type: deliveryErrorTypes.failed, details: [{ attempt, status: null }] });
      }
      const sentAt = new Date();
      const signature = new Webhook(signingSecret).sign(input.deliveryId, sentAt, body);
      let status = 0;
      let error: string | null = null;
      let refused = false;
      try {
        // Heartbeats while the subscriber answers (policy heartbeatTimeout): a killed worker's attempt ends early.
        const res = await heartbeatWhile(() =>
          request(subscriber.url, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'webhook-id': input.deliveryId,
              'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
              'webhook-signature': signature,
              'user-agent': 'switchyard-delivery',
            },
            body,
            signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), Context.current().cancellationSignal]),
            dispatcher: agent,
          }),
        );
        status = res.statusCode;
        await res.body.arrayBuffer().catch(() => undefined);
        if (status < 200 || status >= 300) error = `subscriber answered ${status}`;
      } catch (err) {
        const refusal = outboundRefusal(err);
        refused = refusal !== null;
        error = refusal ? `delivery refused by the outbound policy: ${refusal.message}` : `subscriber unreachable: ${err instanceof Error ? err.message : String(err)}`;
      }
      await recordDeliveryAttempt(pool, input.deliveryId, status || null, error);
      countAttempt(error === null ? 'success' : refused ? 'refused' : status === 410 ? 'gone' : status === 0 ? 'unreachable' : 'http_error');
      if (error === null) return { status, attempt };
      throw ApplicationFailure.create({
        message: error,
        type: refused ? deliveryErrorTypes.notDeliverable : status === 410 ? deliveryErrorTypes.subscriberGone : deliveryErrorTypes.failed,
        nonRetryable: refused || status === 410,
        details: [{ attempt, status }],
      });
    },

    /**
     * Records the outcome once: only a pending delivery is finished, and only then is a subscriber
     * that answered 410 disabled. A local activity can run again (its workflow task lost, so its
     * marker never recorded: with no sticky cache, on most evictions) after an operator has seen
     * the outcome and re-enabled the subscriber; that re-run changes nothing.
     */
    async finishDelivery(outcome: DeliveryOutcome): Promise<void> {
      const finished = await finishDeliveryRow(pool, outcome);
      // Counted when this run finished it, not when a re-run found it finished already.
      if (finished) deliveriesFinished.inc({ status: outcome.status });
    },
  };
}
