/**
 * Yandex Maps geocoding (adapter.ts, over the shared geocoding params) and its registry defaults.
 * The fake is test/fakes/providers/yandex-maps.ts.
 */
import type { ProviderModule } from '../core/provider-module';
import { yandexMapsAdapter } from './adapter';
import { yandexMapsErrorBody } from './error-body';

export const yandexMaps = {
  name: 'yandex-maps' as const,
  adapter: yandexMapsAdapter,
  errorBody: yandexMapsErrorBody,
  registry: {
    'yandex-maps': {
      kind: 'yandex-maps',
      baseUrl: 'https://geocode-maps.yandex.ru',
      credentials: { apiKey: 'YANDEX_MAPS_API_KEY' },
      timeoutMs: 10000,
      // The sources' "Maps" numbers, as Google Maps (test/unit/registry-seeds.test.ts checks
      // them): $6 a day, $150 a month; batches of 25 waiting 1.5 s. Google Maps' weighted
      // failover sends it a share of Google's geocoding (providers/google-maps/index.ts).
      rateLimitPerSecond: 10,
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
        geocode: { costUsd: 0.004, cacheTtlSeconds: 86400, staleIfErrorSeconds: 604800 },
        reverseGeocode: { costUsd: 0.004, cacheTtlSeconds: 86400, staleIfErrorSeconds: 604800 },
      },
      probe: { method: 'GET', path: '/1.x/', auth: { kind: 'query', params: { apikey: 'apiKey' } }, intervalSeconds: 60 },
      sla: { availability: 0.995, p95Ms: 2000, errorRate: 0.02 },
    },
  },
} satisfies ProviderModule;
