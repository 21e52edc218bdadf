/**
 * Google Maps geocoding (adapter.ts, over the shared geocoding params) and its registry defaults.
 * The fake is test/fakes/providers/google-maps.ts.
 */
import type { ProviderModule } from '../core/provider-module';
import { googleMapsAdapter } from './adapter';
import { googleMapsErrorBody } from './error-body';

export const googleMaps = {
  name: 'google-maps' as const,
  adapter: googleMapsAdapter,
  errorBody: googleMapsErrorBody,
  registry: {
    'google-maps': {
      kind: 'google-maps',
      baseUrl: 'https://maps.googleapis.com',
      credentials: { apiKey: 'GOOGLE_MAPS_API_KEY' },
      timeoutMs: 10000,
      rateLimitPerSecond: 50,
      budget: { dailyUsd: 6, monthlyUsd: 150 },
      batch: {
        maxSize: 25,
        maxWaitMs: { high: 1500, medium: 1500, low: 1500 },
        dedupWindowSeconds: 60,
        mode: 'fan-out',
        concurrency: 25,
        costThresholdUsd: 0.5,
      },
      operations: {
        geocode: { costUsd: 0.005, cacheTtlSeconds: 86400 },
        reverseGeocode: { costUsd: 0.005, cacheTtlSeconds: 86400 },
      },
      probe: { method: 'GET', path: '/maps/api/geocode/json', intervalSeconds: 60 },
      sla: { availability: 0.999, p95Ms: 2000, errorRate: 0.01 },
    },
  },
} satisfies ProviderModule;
