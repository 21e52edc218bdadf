/**
 * Stripe: payments through the official SDK (adapter.ts), the Stripe-Signature scheme (webhook.ts),
 * the payment_intent.succeeded handler (handlers.ts) and its registry defaults. The fake is
 * test/fakes/providers/stripe.ts.
 * No `batch`: Stripe has no batch endpoint for any operation used here (charges, payment intents,
 * refunds are one request each; docs/BATCHING.md "Batch endpoints"), and payments are not queued.
 */
import type { ProviderModule } from '../core/provider-module';
import { toleranceOptions } from '../core/scheme-types';
import { stripeAdapter } from './adapter';
import { createStripeHandlers } from './handlers';
import { stripeScheme } from './webhook';
import { stripeErrorBody } from './error-body';

export const stripe = {
  name: 'stripe' as const,
  adapter: stripeAdapter,
  errorBody: stripeErrorBody,
  schemes: {
    stripe: { scheme: stripeScheme, options: toleranceOptions },
  },
  webhookSources: {
    stripe: { scheme: 'stripe', options: { toleranceSeconds: 300 } },
  },
  handlers: createStripeHandlers,
  registry: {
    stripe: {
      kind: 'stripe',
      baseUrl: 'https://api.stripe.com',
      credentials: { apiKey: 'STRIPE_API_KEY' },
      timeoutMs: 10000,
      rateLimitPerSecond: 25,
      budget: { dailyUsd: 50, monthlyUsd: 1000 },
      failover: { strategy: 'primary-secondary', backups: ['paypal'] },
      operations: {
        charge: { costUsd: 0.05, failoverCapable: true },
        refundCharge: { costUsd: 0.0 },
        createPaymentIntent: { costUsd: 0.05 },
        refund: { costUsd: 0.0 },
        getPaymentIntent: { costUsd: 0, cacheTtlSeconds: 30 },
      },
      probe: { method: 'GET', path: '/v1/balance', auth: { kind: 'bearer', token: 'apiKey' }, intervalSeconds: 30 },
      sla: { availability: 0.999, p95Ms: 2000, errorRate: 0.01 },
    },
  },
} satisfies ProviderModule;
