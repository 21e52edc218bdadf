/**
 * GitHub: webhooks only, the X-Hub-Signature-256 scheme (webhook.ts) and its default source.
 */
import type { ProviderModule } from '../core/provider-module';
import { noOptions } from '../core/scheme-types';
import { githubScheme } from './webhook';

export const github = {
  name: 'github' as const,
  schemes: {
    github: { scheme: githubScheme, options: noOptions },
  },
  webhookSources: {
    github: { scheme: 'github' },
  },
} satisfies ProviderModule;
