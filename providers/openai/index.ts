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
      operations: {
        createChatCompletion: { costUsd: 0.002 },
        createEmbedding: { costUsd: 0.0001 },
      },
      probe: { method: 'GET', path: '/v1/models', auth: { kind: 'bearer', token: 'apiKey' }, intervalSeconds: 60 },
      sla: { availability: 0.995, p95Ms: 8000, errorRate: 0.02 },
    },
  },
} satisfies ProviderModule;
