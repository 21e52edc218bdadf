/**
 * Standard Webhooks (standardwebhooks.com): any sender that signs the standard way, verified with
 * the official library (webhook.ts), and the default source `standard`.
 */
import type { ProviderModule } from '../core/provider-module';
import { noOptions } from '../core/scheme-types';
import { standardWebhooksScheme } from './webhook';

export const standardWebhooks = {
  name: 'standard-webhooks' as const,
  schemes: {
    'standard-webhooks': { scheme: standardWebhooksScheme, options: noOptions },
  },
  webhookSources: {
    standard: { scheme: 'standard-webhooks' },
  },
} satisfies ProviderModule;
