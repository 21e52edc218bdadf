/**
 * Webhook signing secrets stored in PostgreSQL (lib/security/stored-secrets.ts), for the verifiers, next to
 * the file and environment ones of api/webhook-secrets.ts. Every webhook asks for its source's
 * secrets, so they are cached per tenant and source for a short time (`ttlMs`, also when there are
 * none); this process's own changes through the admin API invalidate at once, other replicas see
 * them within the TTL. The cache is bounded: a tenant named in a path does not have to exist.
 *
 * When PostgreSQL cannot be read, or a stored secret does not open (unknown master key, altered
 * row: logged by id, never the value), the answer says it is incomplete: the route then refuses
 * with 503 instead of 401 whatever the file and environment secrets did not verify, so the
 * provider retries rather than dropping an event signed with a secret we could not read.
 */
import type { Pool } from 'pg';
import type { Keyring } from '../lib/security/keyring';
import type { Logger } from '../lib/logger';
import { openWebhookSecrets, type OpenedWebhookSecret } from '../lib/security/stored-secrets';

export interface StoredSecretsAnswer {
  /** The live stored secrets (no notAfter, or notAfter after `now`). */
  secrets: string[];
  /** False when some stored secret could not be read: a failed verification is then not final. */
  complete: boolean;
}

export interface StoredWebhookSecrets {
  secretsFor(tenant: string, source: string, now: Date): Promise<StoredSecretsAnswer>;
  /** Drops the cached secrets of a source after a change made by this process. */
  invalidate(tenant: string, source: string): void;
}

export interface StoredWebhookSecretsOptions {
  pool: Pool;
  keyring: Keyring | undefined;
  logger: Logger;
  /** How long a source's secrets are cached; default 5 s. */
  ttlMs?: number;
  /** At most this many sources are cached (oldest dropped first); default 10 000. */
  maxEntries?: number;
}

interface CacheEntry {
  expiresAtMs: number;
  secrets: OpenedWebhookSecret[];
  complete: boolean;
}

export const storedSecretsTtlMs = 5_000;

export function createStoredWebhookSecrets({ pool, keyring, logger, ttlMs = storedSecretsTtlMs, maxEntries = 10_000 }: StoredWebhookSecretsOptions): StoredWebhookSecrets {
  const cache = new Map<string, CacheEntry>();
  const loading = new Map<string, Promise<CacheEntry>>();
  const keyOf = (tenant: string, source: string): string => `${tenant}\u0000${source}`;

  async function load(tenant: string, source: string): Promise<CacheEntry> {
    try {
      const { secrets, failures } = await openWebhookSecrets(pool, keyring, tenant, source);
      for (const failure of failures) {
        logger.error({ tenant, source, secretId: failure.id, problem: failure.error.problem, reason: failure.reason }, 'stored webhook secret cannot be opened');
      }
      return { expiresAtMs: Date.now() + ttlMs, secrets, complete: failures.length === 0 };
    } catch (err) {
      const stale = cache.get(keyOf(tenant, source));
      logger.error({ tenant, source, err: err instanceof Error ? err.message : String(err), usingStale: stale !== undefined }, 'stored webhook secrets cannot be read');
      // A short retry window: the next webhook a second later tries the database again.
      return { expiresAtMs: Date.now() + Math.min(ttlMs, 1_000), secrets: stale?.secrets ?? [], complete: false };
    }
  }

  async function entryFor(tenant: string, source: string): Promise<CacheEntry> {
    const key = keyOf(tenant, source);
    const cached = cache.get(key);
    if (cached && cached.expiresAtMs > Date.now()) return cached;
    const pending = loading.get(key);
    if (pending) return pending;
    const started: Promise<CacheEntry> = load(tenant, source).then((entry) => {
      // An invalidation while loading makes this answer stale: serve it to its waiters, do not keep it.
      if (loading.get(key) === started) {
        loading.delete(key);
        cache.delete(key);
        cache.set(key, entry);
        while (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
      }
      return entry;
    });
    loading.set(key, started);
    return started;
  }

  return {
    async secretsFor(tenant, source, now) {
      const entry = await entryFor(tenant, source);
      const nowMs = now.getTime();
      return { secrets: entry.secrets.filter((s) => s.notAfterMs === undefined || s.notAfterMs > nowMs).map((s) => s.secret), complete: entry.complete };
    },
    invalidate(tenant, source) {
      cache.delete(keyOf(tenant, source));
      loading.delete(keyOf(tenant, source));
    },
  };
}
