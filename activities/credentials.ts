/**
 * Where a provider call's credentials come from: the value stored (encrypted) in PostgreSQL by
 * `switchyard secrets credentials set`, else the environment variable the provider registry names,
 * field by field. Stored values are cached per provider for `ttlMs` (a change reaches every worker
 * within it); when PostgreSQL cannot be read, the last values read are used until it can.
 * A stored credential that cannot be opened (unknown master key, altered row) fails the call as
 * misconfigured, naming the field: never falling back to another value, never showing this one.
 */
import type { Pool } from 'pg';
import type { Keyring } from '../lib/security/keyring';
import type { ProviderConfig } from '../lib/config/registry';
import { openProviderCredentials, type SecretFailure } from '../lib/security/stored-secrets';
import { providerErrorTypes } from '../contracts/errors';
import { providerSetupFailure } from '../providers/core/classify';

export interface CredentialResolver {
  /** The provider's credentials by field; throws a non-retryable ProviderMisconfigured when a stored one does not open. */
  resolve(provider: ProviderConfig, operation: string): Promise<Record<string, string>>;
}

export interface CredentialResolverOptions {
  pool: Pool;
  keyring: Keyring | undefined;
  env: NodeJS.ProcessEnv;
  /** Default 10 s. */
  ttlMs?: number;
}

export const storedCredentialsTtlMs = 10_000;

interface Cached {
  expiresAtMs: number;
  values: Record<string, string>;
  failures: SecretFailure[];
}

export function createCredentialResolver({ pool, keyring, env, ttlMs = storedCredentialsTtlMs }: CredentialResolverOptions): CredentialResolver {
  const cache = new Map<string, Cached>();

  async function stored(provider: string): Promise<Cached> {
    const cached = cache.get(provider);
    if (cached && cached.expiresAtMs > Date.now()) return cached;
    try {
      const opened = await openProviderCredentials(pool, keyring, provider);
      const entry = { expiresAtMs: Date.now() + ttlMs, ...opened };
      cache.set(provider, entry);
      return entry;
    } catch (err) {
      if (cached) return cached;
      throw err;
    }
  }

  return {
    async resolve(provider, operation) {
      const { values, failures } = await stored(provider.name);
      const unreadable = failures.filter((f) => f.id in provider.credentials);
      if (unreadable.length > 0) {
        throw providerSetupFailure({
          provider: provider.name,
          operation,
          type: providerErrorTypes.misconfigured,
          code: 'credential_unreadable',
          message: unreadable.map((f) => `stored credential "${f.id}": ${f.reason}`).join('; '),
        });
      }
      const resolved: Record<string, string> = {};
      for (const [field, variable] of Object.entries(provider.credentials)) {
        const value = values[field] ?? env[variable];
        if (value) resolved[field] = value;
      }
      return resolved;
    },
  };
}
