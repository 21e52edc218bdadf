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
      rateLimitPerSecond: 10,
      budget: { dailyUsd: 20, monthlyUsd: 400 },
      failover: { strategy: 'primary-secondary', backups: ['backup-sms'] },
      batch: {
        maxSize: 1000,
        maxWaitMs: { high: 500, medium: 2000, low: 10000 },
        dedupWindowSeconds: 60,
        mode: 'grouped',
        batchOperation: 'sendSmsBatch',
        recipientFields: ['to'],
      },
      operations: { sendSms: { costUsd: 0.0079, failoverCapable: true }, sendSmsBatch: { costUsd: 0.0079 } },
      probe: { method: 'GET', path: '/2010-04-01.json', auth: { kind: 'basic', username: 'accountSid', password: 'authToken' }, intervalSeconds: 30 },
      sla: { availability: 0.999, p95Ms: 2000, errorRate: 0.01 },
    },
  },
} satisfies ProviderModule;
