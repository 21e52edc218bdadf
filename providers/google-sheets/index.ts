/**
 * Google Sheets through the official SDK with a service account (adapter.ts, service-account.ts),
 * its Drive push channels (the channel-token scheme declared by Google Calendar) and its registry
 * defaults. The fake is test/fakes/providers/google-sheets.ts.
 */
import type { ProviderModule } from '../core/provider-module';
import { googleSheetsAdapter } from './adapter';
import { googleApiErrorBody } from '../core/error-body';

export const googleSheets = {
  name: 'google-sheets' as const,
  adapter: googleSheetsAdapter,
  errorBody: googleApiErrorBody,
  webhookSources: {
    'google-sheets': { scheme: 'google-channel-token', options: { eventTypePrefix: 'sheets' } },
  },
  registry: {
    'google-sheets': {
      kind: 'google-sheets',
      baseUrl: 'https://sheets.googleapis.com',
      credentials: { serviceAccountKeyFile: 'GOOGLE_SHEETS_CREDENTIALS_FILE' },
      timeoutMs: 10000,
      http: { connections: 8, keepAliveTimeoutMs: 30000, connectTimeoutMs: 5000 },
      rateLimitPerSecond: 1,
      budget: null,
      batch: {
        maxSize: 100,
        maxWaitMs: { high: 500, medium: 2000, low: 10000 },
        dedupWindowSeconds: 60,
        mode: 'grouped',
        batchOperation: 'batchWriteRanges',
        recipientFields: ['range', 'values', 'majorDimension'],
        appliesTo: ['writeRange'],
      },
      operations: {
        readRange: { costUsd: 0 },
        writeRange: { costUsd: 0 },
        appendRows: { costUsd: 0 },
        batchWriteRanges: { costUsd: 0 },
      },
      probe: { method: 'GET', path: '/$discovery/rest?version=v4', intervalSeconds: 60 },
      sla: { availability: 0.999, p95Ms: 2000, errorRate: 0.01 },
    },
  },
} satisfies ProviderModule;
