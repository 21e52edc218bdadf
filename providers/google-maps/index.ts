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
      // The sources' numbers (test/unit/registry-seeds.test.ts checks them): $6 a day, $150 a
      // month; batches of 25 waiting 1.5 s. Not mappable under Temporal: the coordination layer's
      // "20 burst, 200 sustained" names no window (the queue keeps 50 a second), and its 50 cent
      // batch cost threshold (a batch flushes on size or wait only).
      // Geocoding is spread over Google and Yandex by health (`weighted`, the monitor's smart
      // routing, activities/routing.ts): 4 calls in 5 go to Google while both are equally healthy.
      rateLimitPerSecond: 50,
      budget: { dailyUsd: 6, monthlyUsd: 150 },
      failover: { strategy: 'weighted', backups: ['yandex-maps'], weights: { 'google-maps': 4, 'yandex-maps': 1 } },
      batch: {
        maxSize: 25,
        maxWaitMs: { high: 1500, medium: 1500, low: 1500 },
        dedupWindowSeconds: 60,
        mode: 'fan-out',
        concurrency: 25,
        costThresholdUsd: 0.5,
      },
      operations: {
        geocode: { costUsd: 0.005, cacheTtlSeconds: 86400, staleIfErrorSeconds: 604800, failoverCapable: true },
        reverseGeocode: { costUsd: 0.005, cacheTtlSeconds: 86400, staleIfErrorSeconds: 604800, failoverCapable: true },
      },
      probe: { method: 'GET', path: '/maps/api/geocode/json', intervalSeconds: 60 },
      sla: { availability: 0.999, p95Ms: 2000, errorRate: 0.01 },
    },
  },
} satisfies ProviderModule;
