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
      rateLimitPerSecond: 50,
      budget: { dailyUsd: 10, monthlyUsd: 200 },
      batch: {
        maxSize: 1000,
        maxWaitMs: { high: 500, medium: 2000, low: 10000 },
        dedupWindowSeconds: 60,
        mode: 'grouped',
        batchOperation: 'sendMailBatch',
        recipientFields: ['to', 'subject'],
      },
      operations: { sendMail: { costUsd: 0.001 }, sendMailBatch: { costUsd: 0.001 } },
      probe: { method: 'GET', path: '/v3/scopes', auth: { kind: 'bearer', token: 'apiKey' }, intervalSeconds: 30 },
      sla: { availability: 0.999, p95Ms: 2000, errorRate: 0.01 },
    },
  },
} satisfies ProviderModule;
