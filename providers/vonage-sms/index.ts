/**
 * Vonage SMS (the backup SMS provider Twilio fails over to, registered as `backup-sms`): the
 * adapter and its registry defaults. The fake is test/fakes/providers/vonage-sms.ts.
 */
import type { ProviderModule } from '../core/provider-module';
import { vonageSmsAdapter } from './adapter';
import { vonageSmsErrorBody } from './error-body';

export const vonageSms = {
  name: 'vonage-sms' as const,
  adapter: vonageSmsAdapter,
  errorBody: vonageSmsErrorBody,
  registry: {
    'backup-sms': {
      kind: 'vonage-sms',
      baseUrl: 'https://rest.nexmo.com',
      credentials: { apiKey: 'VONAGE_API_KEY', apiSecret: 'VONAGE_API_SECRET', from: 'VONAGE_FROM' },
      timeoutMs: 10000,
      rateLimitPerSecond: 10,
      budget: { dailyUsd: 20, monthlyUsd: 400 },
      operations: { sendSms: { costUsd: 0.0095 } },
      probe: { method: 'GET', path: '/account/get-balance', auth: { kind: 'query', params: { api_key: 'apiKey', api_secret: 'apiSecret' } }, intervalSeconds: 30 },
      sla: { availability: 0.995, p95Ms: 3000, errorRate: 0.02 },
    },
  },
} satisfies ProviderModule;
