/**
 * Twilio: SMS and Notify batches (adapter.ts), the X-Twilio-Signature scheme (webhook.ts), the
 * inbound SMS opt-out handler (handlers.ts) and its registry defaults. The fake is test/fakes/providers/twilio.ts.
 */
import type { ProviderModule } from '../core/provider-module';
import { noOptions } from '../core/scheme-types';
import { twilioAdapter } from './adapter';
import { twilioScheme } from './webhook';
import { twilioErrorBody } from './error-body';
import { createTwilioHandlers } from './handlers';

export const twilio = {
  name: 'twilio' as const,
  adapter: twilioAdapter,
  errorBody: twilioErrorBody,
  handlers: createTwilioHandlers,
  schemes: {
    twilio: { scheme: twilioScheme, options: noOptions },
  },
  webhookSources: {
    twilio: { scheme: 'twilio' },
  },
  registry: {
    twilio: {
      kind: 'twilio',
      baseUrl: 'https://api.twilio.com',
      hosts: { notify: 'https://notify.twilio.com' },
      credentials: {
        accountSid: 'TWILIO_ACCOUNT_SID',
        authToken: 'TWILIO_AUTH_TOKEN',
        from: 'TWILIO_FROM_NUMBER',
        notifyServiceSid: 'TWILIO_NOTIFY_SERVICE_SID',
      },
      timeoutMs: 10000,
      // The sources' numbers (test/unit/registry-seeds.test.ts checks them). Under Temporal:
      // - 1000 per 60 s is enforced as 16.7 calls a second on the task queue (a rate, not a
      //   window; lib/config/registry.ts rateLimitOf). The coordination layer's "10 burst, 100
      //   sustained" names no window, so the booking platform's 1000 per 60 s is the one declared.
      // - Batches: at most 50 items, waiting at most 1 s (the source's one wait, for every
      //   priority; high waits 0.5 s). Its $2.00 cost threshold is not mapped: a batch flushes on
      //   size or wait only. One Notify request carries the 50 (Notify itself takes 10 000).
      // - SMS stays `primary-secondary` to backup-sms: the monitor puts communication APIs under
      //   the circuit breaker strategy, and a booking's SMS should come from one sender.
      rateLimit: { requests: 1000, windowSeconds: 60 },
      budget: { dailyUsd: 8, monthlyUsd: 200 },
      failover: { strategy: 'primary-secondary', backups: ['backup-sms'] },
      batch: {
        maxSize: 50,
        maxWaitMs: { high: 500, medium: 1000, low: 1000 },
        dedupWindowSeconds: 60,
        mode: 'grouped',
        batchOperation: 'sendSmsBatch',
        recipientFields: ['to'],
        costThresholdUsd: 2,
      },
      operations: { sendSms: { costUsd: 0.0079, failoverCapable: true }, sendSmsBatch: { costUsd: 0.0079 } },
      probe: { method: 'GET', path: '/2010-04-01.json', auth: { kind: 'basic', username: 'accountSid', password: 'authToken' }, intervalSeconds: 30 },
      sla: { availability: 0.999, p95Ms: 2000, errorRate: 0.01 },
      thresholds: {
        responseTimeWarningMs: 5000,
        responseTimeCriticalMs: 10000,
        errorRateWarning: 0.05,
        errorRateCritical: 0.1,
        availabilityWarning: 0.98,
        availabilityCritical: 0.95,
      },
    },
  },
} satisfies ProviderModule;
