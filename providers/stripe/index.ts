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
      // The sources' numbers (test/unit/registry-seeds.test.ts checks them). Under Temporal:
      // - 100 per 60 s is enforced as 100/60 ≈ 1.67 calls a second on the task queue (Temporal
      //   limits a queue by a rate, not a window): never more than 100 in a minute, but no burst
      //   of 100 at once either (lib/config/registry.ts rateLimitOf).
      // - $2 a day, $50 a month: the source gives no per-request price, and Stripe bills no API
      //   request (its card fees are not API cost), so a charge is declared at a nominal $0.001:
      //   about 1 800 non-critical charges a day pass the 90% throttle, a guard against runaway
      //   calls rather than a fee ledger; critical calls and refunds (compensations) are never refused.
      // - The source's batching (100 per batch, 2 s wait, 5 cent threshold) is not declared: Stripe
      //   has no batch endpoint, and fan-out batching with its dedup window would merge two
      //   identical charges into one. Batches flush on size or wait; no cost threshold exists.
      // - Warning/critical levels are the booking platform's (5 s / 10 s, 5% / 10%, 98% / 95%).
      rateLimit: { requests: 100, windowSeconds: 60 },
      budget: { dailyUsd: 2, monthlyUsd: 50 },
      failover: { strategy: 'primary-secondary', backups: ['paypal'] },
      operations: {
        charge: { costUsd: 0.001, failoverCapable: true },
        refundCharge: { costUsd: 0.0 },
        createPaymentIntent: { costUsd: 0.001 },
        refund: { costUsd: 0.0 },
        getPaymentIntent: { costUsd: 0, cacheTtlSeconds: 30 },
      },
      probe: { method: 'GET', path: '/v1/balance', auth: { kind: 'bearer', token: 'apiKey' }, intervalSeconds: 30 },
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
