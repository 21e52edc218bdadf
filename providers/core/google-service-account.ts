/**
 * Google service-account authorization for the official googleapis clients: the key file (JSON,
 * as Google issues it) named by the provider's `serviceAccountKeyFile` credential is read and
 * checked, and google-auth-library's JWT client signs an RS256 assertion with its private key and
 * exchanges it at the token endpoint (`urn:ietf:params:oauth:grant-type:jwt-bearer`). The client
 * caches the access token until shortly before it expires, so one client is kept per (outbound
 * policy, provider entry, key file content, scopes); a changed key file makes a new client.
 *
 * Every request of the client (token exchange and API calls) goes through the provider's pool of
 * the shared core (http-pool.ts, as a fetch function): pool limits, pool metrics and the outbound
 * (SSRF) guard apply as to every other provider. Two adjustments to the library's defaults:
 * - no retries inside the client (gaxios retries API calls and token requests by default):
 *   Temporal's retry policy is the only one, so attempts are counted and classified once;
 * - the token request goes to the key file's `token_uri`: this google-auth-library version posts
 *   to Google's fixed endpoint whatever the key says, which a key for a local or private endpoint
 *   (tests, a proxy) needs honoured. The assertion's audience stays Google's token URL.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { auth } from '@googleapis/sheets';
import { z } from 'zod';
import { strictOutboundPolicy, type OutboundPolicy } from '../../lib/security/outbound-policy';
import { providerErrorTypes, providerSetupFailure } from './classify';
import { requireCredential } from './http-core';
import { providerFetch } from './http-pool';
import type { ProviderCallContext } from './adapter-types';

/** Where google-auth-library sends token requests; replaced by the key's token_uri when that differs. */
export const googleTokenUrl = 'https://oauth2.googleapis.com/token';

const serviceAccountKey = z.object({
  type: z.literal('service_account'),
  client_email: z.string().min(1),
  private_key: z.string().includes('PRIVATE KEY'),
  private_key_id: z.string().min(1).optional(),
  token_uri: z.url().default(googleTokenUrl),
});
export type ServiceAccountKey = z.infer<typeof serviceAccountKey>;

export type GoogleAuthClient = InstanceType<typeof auth.JWT>;

interface KeyedClient {
  client: GoogleAuthClient;
  key: ServiceAccountKey;
}

const clients = new Map<OutboundPolicy, Map<string, KeyedClient>>();

function misconfigured(ctx: ProviderCallContext, code: string, message: string) {
  return providerSetupFailure({ provider: ctx.provider.name, operation: ctx.operation, type: providerErrorTypes.misconfigured, code, message });
}

/** Reads and checks the key file; what is wrong is named, never the key's content. */
function readKeyFile(ctx: ProviderCallContext, field: string): { key: ServiceAccountKey; digest: string } {
  const file = requireCredential(ctx, field);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw misconfigured(ctx, 'service_account_key_unreadable', `the service-account key file cannot be read (${code})`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw misconfigured(ctx, 'service_account_key_invalid', 'the service-account key file is not JSON');
  }
  const parsed = serviceAccountKey.safeParse(document);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(file)').join(', ');
    throw misconfigured(ctx, 'service_account_key_invalid', `the service-account key file lacks or has invalid: ${fields}`);
  }
  return { key: parsed.data, digest: createHash('sha256').update(text).digest('hex') };
}

/**
 * The authorized client for this call's provider, from the key file its `field` credential names
 * (a path). Cached: its access token is reused until it nears expiry.
 */
export function googleServiceAccountClient(ctx: ProviderCallContext, scopes: readonly string[], field = 'serviceAccountKeyFile'): KeyedClient {
  const { key, digest } = readKeyFile(ctx, field);
  const policy = ctx.outbound ?? strictOutboundPolicy;
  let byKey = clients.get(policy);
  if (!byKey) {
    byKey = new Map();
    clients.set(policy, byKey);
  }
  const cacheKey = `${ctx.provider.name}\n${JSON.stringify(ctx.provider.http)}\n${digest}\n${scopes.join(' ')}`;
  const cached = byKey.get(cacheKey);
  if (cached) return cached;

  const client = new auth.JWT({
    email: key.client_email,
    key: key.private_key,
    keyId: key.private_key_id,
    scopes: [...scopes],
    transporterOptions: { fetchImplementation: providerFetch(ctx.provider, policy) },
  });
  client.transporter.interceptors.request.add({
    resolved: (options) => {
      options.retry = false;
      options.retryConfig = { ...options.retryConfig, retry: 0, noResponseRetries: 0 };
      if (options.url.href === googleTokenUrl && key.token_uri !== googleTokenUrl) options.url = new URL(key.token_uri);
      return Promise.resolve(options);
    },
  });
  const entry = { client, key };
  byKey.set(cacheKey, entry);
  return entry;
}

/** Forgets every cached client and its tokens (tests). */
export function clearGoogleServiceAccountClients(): void {
  clients.clear();
}
