/**
 * Airtable: record creation (adapter.ts), its error bodies (error-body.ts) and the registry's
 * defaults: queued `createRecord` items of one table are combined 10 per request (Airtable's
 * limit) by the batch workflow's `grouped` flush; 5 requests per second per base. The fake is
 * test/fakes/providers/airtable.ts.
 */
import type { ProviderModule } from '../core/provider-module';
import { airtableAdapter, airtableMaxRecordsPerRequest } from './adapter';
import { airtableErrorBody } from './error-body';

export const airtable = {
  name: 'airtable' as const,
  adapter: airtableAdapter,
  errorBody: airtableErrorBody,
  registry: {
    airtable: {
      kind: 'airtable',
      baseUrl: 'https://api.airtable.com',
      credentials: { accessToken: 'AIRTABLE_ACCESS_TOKEN' },
      timeoutMs: 10000,
      // Airtable allows 5 requests per second per base; one base per deployment is the usual case.
      rateLimitPerSecond: 5,
      budget: { dailyUsd: 1.2, monthlyUsd: 30 },
      batch: {
        maxSize: airtableMaxRecordsPerRequest,
        maxWaitMs: { high: 500, medium: 2000, low: 10000 },
        dedupWindowSeconds: 60,
        mode: 'grouped',
        batchOperation: 'createRecords',
        // Items of one base, table and typecast share a request; each brings its own record.
        recipientFields: ['fields'],
        appliesTo: ['createRecord'],
      },
      operations: {
        createRecord: { costUsd: 0 },
        createRecords: { costUsd: 0 },
      },
      // Who the token belongs to: answers 401 when the token is refused.
      probe: { method: 'GET', path: '/v0/meta/whoami', auth: { kind: 'bearer', token: 'accessToken' }, intervalSeconds: 60 },
      sla: { availability: 0.995, p95Ms: 3000, errorRate: 0.02 },
    },
  },
} satisfies ProviderModule;
