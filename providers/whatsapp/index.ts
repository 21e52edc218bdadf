/**
 * WhatsApp Business Cloud API: template messages (adapter.ts), the Graph API's error body and
 * its registry defaults. The fake is test/fakes/providers/whatsapp.ts.
 */
import type { ProviderModule } from '../core/provider-module';
import { graphApiVersion, whatsappAdapter } from './adapter';
import { whatsappErrorBody } from './error-body';

export const whatsapp = {
  name: 'whatsapp' as const,
  adapter: whatsappAdapter,
  errorBody: whatsappErrorBody,
  registry: {
    whatsapp: {
      kind: 'whatsapp',
      baseUrl: 'https://graph.facebook.com',
      credentials: { accessToken: 'WHATSAPP_ACCESS_TOKEN', phoneNumberId: 'WHATSAPP_PHONE_NUMBER_ID' },
      timeoutMs: 10000,
      // Cloud API throughput: 80 messages per second per business phone number by default.
      rateLimitPerSecond: 80,
      budget: { dailyUsd: 20, monthlyUsd: 400 },
      // A marketing template conversation in the US; utility and authentication ones cost less.
      operations: { sendTemplate: { costUsd: 0.025 } },
      probe: { method: 'GET', path: `/${graphApiVersion}/me`, auth: { kind: 'bearer', token: 'accessToken' }, intervalSeconds: 60 },
      sla: { availability: 0.999, p95Ms: 3000, errorRate: 0.02 },
    },
  },
} satisfies ProviderModule;
