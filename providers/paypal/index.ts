/**
 * PayPal: the card charge and refund Stripe fails over to (adapter.ts, over the shared payment
 * params) and its registry defaults. The fake is test/fakes/providers/paypal.ts.
 */
import type { ProviderModule } from '../core/provider-module';
import { paypalAdapter } from './adapter';
import { paypalErrorBody } from './error-body';

export const paypal = {
  name: 'paypal' as const,
  adapter: paypalAdapter,
  errorBody: paypalErrorBody,
  registry: {
    paypal: {
      kind: 'paypal',
      baseUrl: 'https://api-m.paypal.com',
      credentials: { clientId: 'PAYPAL_CLIENT_ID', clientSecret: 'PAYPAL_CLIENT_SECRET' },
      timeoutMs: 10000,
      rateLimitPerSecond: 25,
      budget: { dailyUsd: 50, monthlyUsd: 1000 },
      operations: { charge: { costUsd: 0.05 }, refundCharge: { costUsd: 0.0 } },
      probe: { method: 'GET', path: '/v1/notifications/webhooks-event-types', auth: { kind: 'client-credentials', tokenPath: '/v1/oauth2/token', clientId: 'clientId', clientSecret: 'clientSecret' }, intervalSeconds: 30 },
      sla: { availability: 0.999, p95Ms: 2000, errorRate: 0.01 },
    },
  },
} satisfies ProviderModule;
