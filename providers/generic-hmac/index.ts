/**
 * Generic HMAC sources: any sender signing with HMAC, configured (header, algorithm, encoding,
 * signed payload, timestamp) rather than coded (webhook.ts), and two example sources.
 */
import type { ProviderModule } from '../core/provider-module';
import { genericHmacScheme, genericSourceOptions } from './webhook';

export const genericHmac = {
  name: 'generic-hmac' as const,
  schemes: {
    hmac: { scheme: genericHmacScheme, options: genericSourceOptions },
  },
  webhookSources: {
    'generic:example': {
      scheme: 'hmac',
      options: {
        header: 'x-signature',
        algorithm: 'sha256',
        encoding: 'hex',
        prefix: 'sha256=',
        timestampHeader: 'x-timestamp',
        signedPayload: 'timestamp.body',
        toleranceSeconds: 300,
        eventIdField: 'id',
        eventTypeField: 'type',
      },
    },
    'generic:shopify': {
      scheme: 'hmac',
      options: {
        header: 'x-shopify-hmac-sha256',
        algorithm: 'sha256',
        encoding: 'base64',
        eventIdHeader: 'x-shopify-webhook-id',
      },
    },
  },
} satisfies ProviderModule;
