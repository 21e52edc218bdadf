/**
 * Google Calendar: events (adapter.ts, with calendar-merge.ts for partial updates), its push
 * channels (the channel-token scheme it shares with Sheets, providers/core/google-channel-token.ts)
 * and its registry defaults. The fake is test/fakes/providers/google-calendar.ts.
 */
import { googleCalendarScheme, googleChannelOptions } from '../core/google-channel-token';
import type { ProviderModule } from '../core/provider-module';
import { googleCalendarAdapter } from './adapter';
import { googleApiErrorBody } from '../core/error-body';

export const googleCalendar = {
  name: 'google-calendar' as const,
  adapter: googleCalendarAdapter,
  errorBody: googleApiErrorBody,
  schemes: {
    'google-channel-token': { scheme: googleCalendarScheme, options: googleChannelOptions },
  },
  webhookSources: {
    'google-calendar': { scheme: 'google-channel-token' },
  },
  registry: {
    'google-calendar': {
      kind: 'google-calendar',
      baseUrl: 'https://www.googleapis.com',
      // One of: a service-account key file, an OAuth refresh token (with its client), or a fixed
      // access token (providers/core/google-token.ts says which wins).
      credentials: {
        serviceAccountKeyFile: 'GOOGLE_CALENDAR_CREDENTIALS_FILE',
        refreshToken: 'GOOGLE_REFRESH_TOKEN',
        clientId: 'GOOGLE_CLIENT_ID',
        clientSecret: 'GOOGLE_CLIENT_SECRET',
        accessToken: 'GOOGLE_ACCESS_TOKEN',
      },
      hosts: { oauth2: 'https://oauth2.googleapis.com' },
      timeoutMs: 10000,
      http: { connections: 8, keepAliveTimeoutMs: 30000, connectTimeoutMs: 5000, allowH2: true },
      // The sources' numbers (test/unit/registry-seeds.test.ts checks them). 250 per 100 s is
      // enforced as 2.5 calls a second on the task queue (Temporal limits a queue by a rate, not a
      // window; lib/config/registry.ts rateLimitOf). The sources give Calendar no budget.
      rateLimit: { requests: 250, windowSeconds: 100 },
      budget: null,
      operations: {
        insertEvent: { costUsd: 0 },
        updateEvent: { costUsd: 0 },
        deleteEvent: { costUsd: 0 },
        // A booking page may show an event an hour old rather than nothing while Calendar is down.
        getEvent: { costUsd: 0, cacheTtlSeconds: 300, staleIfErrorSeconds: 3600 },
      },
      probe: { method: 'GET', path: '/discovery/v1/apis/calendar/v3/rest', intervalSeconds: 30 },
      sla: { availability: 0.995, p95Ms: 3000, errorRate: 0.05 },
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
