/**
 * Google My Business (Business Profile API v4): review replies and the review list (adapter.ts)
 * and the registry's defaults. Tokens come from Google's OAuth token endpoint with the shared
 * OAuth client and the Business Profile account's own refresh token (or a fixed access token),
 * as for Calendar (providers/core/google-token.ts). The fake is
 * test/fakes/providers/google-my-business.ts.
 */
import { googleApiErrorBody } from '../core/error-body';
import type { ProviderModule } from '../core/provider-module';
import { googleMyBusinessAdapter } from './adapter';

export const googleMyBusiness = {
  name: 'google-my-business' as const,
  adapter: googleMyBusinessAdapter,
  errorBody: googleApiErrorBody,
  registry: {
    'google-my-business': {
      kind: 'google-my-business',
      baseUrl: 'https://mybusiness.googleapis.com',
      credentials: {
        refreshToken: 'GOOGLE_MY_BUSINESS_REFRESH_TOKEN',
        clientId: 'GOOGLE_CLIENT_ID',
        clientSecret: 'GOOGLE_CLIENT_SECRET',
        accessToken: 'GOOGLE_MY_BUSINESS_ACCESS_TOKEN',
      },
      hosts: { oauth2: 'https://oauth2.googleapis.com' },
      timeoutMs: 10000,
      // Google's default Business Profile quota is 300 queries per minute per project.
      rateLimitPerSecond: 5,
      budget: null,
      operations: {
        replyToReview: { costUsd: 0 },
        // Reviews change slowly: a repeated read within a minute is answered from the cache.
        listReviews: { costUsd: 0, cacheTtlSeconds: 60 },
      },
      // The API's discovery document: public, so the probe needs no token (partial response, `fields`).
      probe: { method: 'GET', path: '/$discovery/rest?version=v4&fields=name,version', intervalSeconds: 60 },
      sla: { availability: 0.995, p95Ms: 3000, errorRate: 0.02 },
    },
  },
} satisfies ProviderModule;
