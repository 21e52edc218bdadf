/**
 * SendGrid: mail and personalization batches (adapter.ts), the signed Event Webhook scheme
 * (webhook.ts), its bounce and unsubscribe handlers (handlers.ts) and its registry defaults. The fake is test/fakes/providers/sendgrid.ts.
 */
import type { ProviderModule } from '../core/provider-module';
import { toleranceOptions } from '../core/scheme-types';
import { sendgridAdapter } from './adapter';
import { sendgridScheme } from './webhook';
import { sendgridErrorBody } from './error-body';
import { createSendgridHandlers } from './handlers';

export const sendgrid = {
  name: 'sendgrid' as const,
  adapter: sendgridAdapter,
  errorBody: sendgridErrorBody,
  handlers: createSendgridHandlers,
  schemes: {
    sendgrid: { scheme: sendgridScheme, options: toleranceOptions },
  },
  webhookSources: {
    sendgrid: { scheme: 'sendgrid', options: { toleranceSeconds: 300 } },
  },
  registry: {
    sendgrid: {
      kind: 'sendgrid',
      baseUrl: 'https://api.sendgrid.com',
      credentials: { apiKey: 'SENDGRID_API_KEY' },
      timeoutMs: 10000,
      http: {
        connections: 16,
        keepAliveTimeoutMs: 10000,
        connectTimeoutMs: 5000,
        gzipRequests: true,
        gzipMinBytes: 1024,
      },
      // The sources' numbers (test/unit/registry-seeds.test.ts checks them). Under Temporal:
      // - 600 per 60 s is enforced as 10 calls a second on the task queue (a rate, not a window;
      //   lib/config/registry.ts rateLimitOf).
      // - Batches: up to 1000 personalizations, waiting at most 5 s (the source's one wait, for
      //   medium and low; high waits 0.5 s). Its 10 cent cost threshold is not mapped: a batch
      //   flushes on size or wait only.
      rateLimit: { requests: 600, windowSeconds: 60 },
      budget: { dailyUsd: 2, monthlyUsd: 50 },
      batch: {
        maxSize: 1000,
        maxWaitMs: { high: 500, medium: 5000, low: 5000 },
        dedupWindowSeconds: 60,
        mode: 'grouped',
        batchOperation: 'sendMailBatch',
        recipientFields: ['to', 'subject'],
        costThresholdUsd: 0.1,
      },
      operations: { sendMail: { costUsd: 0.001 }, sendMailBatch: { costUsd: 0.001 } },
      probe: { method: 'GET', path: '/v3/scopes', auth: { kind: 'bearer', token: 'apiKey' }, intervalSeconds: 30 },
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
