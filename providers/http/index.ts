/**
 * Generic HTTP APIs: operations declared in the registry entry itself (method, path, batch
 * endpoint) rather than in code (adapter.ts), and the example entry `httpbin`. The fake is
 * test/fakes/providers/http-echo.ts.
 */
import type { ProviderModule } from '../core/provider-module';
import { httpAdapter } from './adapter';

export const http = {
  name: 'http' as const,
  adapter: httpAdapter,
  registry: {
    httpbin: {
      kind: 'http',
      baseUrl: 'https://httpbin.org',
      credentials: { bearerToken: 'HTTPBIN_TOKEN' },
      timeoutMs: 10000,
      rateLimitPerSecond: 5,
      budget: null,
      operations: {
        postAnything: { costUsd: 0, method: 'POST', path: '/anything' },
        getAnything: { costUsd: 0, method: 'GET', path: '/anything/{id}', cacheTtlSeconds: 60, staleIfErrorSeconds: 600 },
      },
      probe: { method: 'GET', path: '/status/200', intervalSeconds: 30 },
      sla: { availability: 0.99, p95Ms: 3000, errorRate: 0.05 },
    },
  },
} satisfies ProviderModule;
