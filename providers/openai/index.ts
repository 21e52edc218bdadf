/**
 * OpenAI: chat completions and embeddings (adapter.ts) and the registry's defaults. The fake is
 * test/fakes/providers/openai.ts.
 */
import type { ProviderModule } from '../core/provider-module';
import { openaiAdapter } from './adapter';

export const openai = {
  name: 'openai' as const,
  adapter: openaiAdapter,
  registry: {
    openai: {
      kind: 'openai',
      baseUrl: 'https://api.openai.com',
      credentials: { apiKey: 'OPENAI_API_KEY' },
      timeoutMs: 10000,
      rateLimitPerSecond: 5,
      budget: { dailyUsd: 10, monthlyUsd: 200 },
      // Token-priced (OpenAI's list prices, USD per 1000 tokens): a call reserves the estimate of its
      // params and is settled at the answer's usage; costUsd is the least its plan reserves.
      operations: {
        createChatCompletion: {
          costUsd: 0.0001,
          tokenPrices: {
            'gpt-4o-mini': { promptPer1kUsd: 0.00015, completionPer1kUsd: 0.0006 },
            'gpt-4o': { promptPer1kUsd: 0.0025, completionPer1kUsd: 0.01 },
          },
        },
        createEmbedding: {
          costUsd: 0.000001,
          tokenPrices: {
            'text-embedding-3-small': { promptPer1kUsd: 0.00002 },
            'text-embedding-3-large': { promptPer1kUsd: 0.00013 },
          },
        },
      },
      probe: { method: 'GET', path: '/v1/models', auth: { kind: 'bearer', token: 'apiKey' }, intervalSeconds: 60 },
      sla: { availability: 0.995, p95Ms: 8000, errorRate: 0.02 },
    },
  },
} satisfies ProviderModule;
