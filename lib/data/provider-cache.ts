/**
 * Read-through cache for idempotent provider reads (operations with `cacheTtlSeconds` in the
 * registry). Keys are readable and tenant-scoped, `{tenant}:{provider}:{operation}:{params}`, so
 * an operator (or a write that changes the thing read) can invalidate by prefix. Stored in
 * PostgreSQL so every worker shares it; hits and misses are counted for /metrics (per process) and,
 * per tenant, provider, operation and hour, in `provider_cache_stats` (every worker's together,
 * for GET /cache/stats and the performance report), in the look-up's own statement. Kept bounded:
 * every `pruneEvery`-th write of a process deletes expired entries and, past `maxEntries`, the
 * entries expiring soonest (a bounded batch each time, so no write waits on a big delete).
 */
import type { Pool } from 'pg';
import { Counter, Registry } from 'prom-client';
import type { ProviderRegistry } from '../config/registry';

export const cacheMetricsRegistry = new Registry();
const cacheRequests = new Counter({
  name: 'provider_cache_requests_total',
  help: 'Read-through cache look-ups for provider reads, by provider, operation and result (hit/miss; stale: an expired answer served because the provider failed)',
  labelNames: ['provider', 'operation', 'result'],
  registers: [cacheMetricsRegistry],
});

/** A zero hit and miss for every cached operation of the registry: a hit rate of 0 exists before the first hit. */
export function initCacheSeries(registry: ProviderRegistry): void {
  for (const provider of Object.values(registry)) {
    for (const [operation, declared] of Object.entries(provider.operations)) {
      if (!declared.cacheTtlSeconds) continue;
      for (const result of ['hit', 'miss']) cacheRequests.inc({ provider: provider.name, operation, result }, 0);
    }
  }
}

/**
 * Stable, readable text for params: keys sorted, so the same read always has the same key; keys
 * and values URI-encoded and nested values bracketed, so different params never share a key
 * (`{a: '1&b=2'}` is not `{a: '1', b: '2'}`).
 */
function stableParams(value: unknown, nested = false): string {
  if (Array.isArray(value)) return `[${value.map((v) => stableParams(v, true)).join(',')}]`;
  if (value === null || typeof value !== 'object') return encodeURIComponent(String(value));
  const body = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${encodeURIComponent(k)}=${stableParams(v, true)}`)
    .join('&');
  return nested ? `{${body}}` : body;
}

export function cacheKey(tenant: string, provider: string, operation: string, params: unknown): string {
  return `${tenant}:${provider}:${operation}:${stableParams(params)}`;
}

type Queryable = Pick<Pool, 'query'>;

export interface CacheLimits {
  /** The size cap (PROVIDER_CACHE_MAX_ENTRIES). */
  maxEntries: number;
  /** Prune after this many writes of the process. */
  pruneEvery: number;
  /** Rows deleted per prune, at most, for each of expired and over the cap. */
  pruneBatch: number;
}

const defaultLimits: CacheLimits = { maxEntries: 100_000, pruneEvery: 100, pruneBatch: 1000 };

/** Deletes entries past their stale window, then those past the cap that go soonest (each at most `pruneBatch`). */
export async function pruneProviderCache(pool: Queryable, limits: Pick<CacheLimits, 'maxEntries' | 'pruneBatch'>): Promise<{ expired: number; evicted: number }> {
  const expired = await pool.query(
    'DELETE FROM provider_cache WHERE key IN (SELECT key FROM provider_cache WHERE COALESCE(stale_until, expires_at) <= now() ORDER BY COALESCE(stale_until, expires_at) LIMIT $1)',
    [limits.pruneBatch],
  );
  const evicted = await pool.query(
    'DELETE FROM provider_cache WHERE key IN (SELECT key FROM provider_cache ORDER BY COALESCE(stale_until, expires_at) DESC, key OFFSET $1 LIMIT $2)',
    [limits.maxEntries, limits.pruneBatch],
  );
  return { expired: expired.rowCount ?? 0, evicted: evicted.rowCount ?? 0 };
}

export function createProviderCache(pool: Queryable, limits: Partial<CacheLimits> = {}) {
  const bounds = { ...defaultLimits, ...limits };
  let writes = 0;
  return {
    /**
     * The live entry under `key` (made by cacheKey: its tenant is the key's first part), counting
     * the hit or miss in the same statement: one round trip, and no count without its look-up.
     */
    async get(key: string, provider: string, operation: string): Promise<Record<string, unknown> | undefined> {
      const tenant = key.slice(0, key.indexOf(':'));
      const { rows } = await pool.query<{ value: Record<string, unknown> }>(
        `WITH found AS (SELECT value FROM provider_cache WHERE key = $1 AND expires_at > now()),
              counted AS (
                INSERT INTO provider_cache_stats AS s (tenant, provider, operation, hour, hits, misses)
                SELECT $2, $3, $4, date_trunc('hour', now()), n, 1 - n FROM (SELECT count(*) AS n FROM found) f
                ON CONFLICT (tenant, provider, operation, hour)
                DO UPDATE SET hits = s.hits + EXCLUDED.hits, misses = s.misses + EXCLUDED.misses)
         SELECT value FROM found`,
        [key, tenant, provider, operation],
      );
      cacheRequests.inc({ provider, operation, result: rows.length === 1 ? 'hit' : 'miss' });
      return rows[0]?.value;
    },

    /**
     * The answer served past its expiry when the provider fails (graceful degradation): still within
     * the operation's staleIfErrorSeconds, with when it stopped being fresh.
     */
    async getStale(key: string, provider: string, operation: string): Promise<{ value: Record<string, unknown>; expiredAt: string } | undefined> {
      const { rows } = await pool.query<{ value: Record<string, unknown>; expired_at: Date }>(
        'SELECT value, expires_at AS expired_at FROM provider_cache WHERE key = $1 AND stale_until > now()',
        [key],
      );
      const row = rows[0];
      if (!row) return undefined;
      cacheRequests.inc({ provider, operation, result: 'stale' });
      return { value: row.value, expiredAt: row.expired_at.toISOString() };
    },

    /** Fresh for ttlSeconds; kept staleSeconds longer for getStale. */
    async set(key: string, value: Record<string, unknown>, ttlSeconds: number, staleSeconds = 0): Promise<void> {
      await pool.query(
        `INSERT INTO provider_cache (key, value, expires_at, stale_until)
         VALUES ($1, $2, now() + make_interval(secs => $3), now() + make_interval(secs => $3 + $4))
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at, stale_until = EXCLUDED.stale_until`,
        [key, value, ttlSeconds, staleSeconds],
      );
      writes += 1;
      // A failed prune costs nothing but space: the next one tries again.
      if (writes % bounds.pruneEvery === 0) await pruneProviderCache(pool, bounds).catch(() => undefined);
    },

    /** Removes every entry whose key starts with `prefix`; returns how many. */
    async invalidatePrefix(prefix: string): Promise<number> {
      const escaped = prefix.replace(/[\\%_]/g, (c) => `\\${c}`);
      const result = await pool.query('DELETE FROM provider_cache WHERE key LIKE $1', [`${escaped}%`]);
      return result.rowCount ?? 0;
    },
  };
}

export type ProviderCache = ReturnType<typeof createProviderCache>;

export interface CacheStatsRow {
  provider: string;
  operation: string;
  hits: number;
  misses: number;
}

/**
 * The tenant's look-ups per provider and operation over the hours starting in [from, to)
 * (counted per hour: a range is read to the hour).
 */
export async function cacheStats(pool: Queryable, tenant: string, range: { from: Date; to: Date; provider?: string }): Promise<CacheStatsRow[]> {
  const { rows } = await pool.query<CacheStatsRow>(
    `SELECT provider, operation, sum(hits)::float8 AS hits, sum(misses)::float8 AS misses FROM provider_cache_stats
      WHERE tenant = $1 AND hour >= date_trunc('hour', $2::timestamptz) AND hour < $3 AND ($4::text IS NULL OR provider = $4)
      GROUP BY provider, operation ORDER BY provider, operation`,
    [tenant, range.from, range.to, range.provider ?? null],
  );
  return rows;
}

/** Live (unexpired) entries of the tenant per provider and operation, read from the keys. */
export async function cacheEntries(pool: Queryable, tenant: string, provider?: string): Promise<Array<{ provider: string; operation: string; entries: number }>> {
  const { rows } = await pool.query<{ provider: string; operation: string; entries: number }>(
    `SELECT split_part(key, ':', 2) AS provider, split_part(key, ':', 3) AS operation, count(*)::int AS entries
       FROM provider_cache WHERE starts_with(key, $1) AND expires_at > now() AND ($2::text IS NULL OR split_part(key, ':', 2) = $2)
      GROUP BY 1, 2`,
    [`${tenant}:`, provider ?? null],
  );
  return rows;
}

/** Retention: deletes at most `batchSize` hourly cache counters older than `olderThanDays`. */
export async function pruneCacheStats(pool: Queryable, olderThanDays: number, batchSize: number): Promise<number> {
  const result = await pool.query(
    `DELETE FROM provider_cache_stats WHERE ctid IN (SELECT ctid FROM provider_cache_stats WHERE hour < now() - make_interval(days => $1) LIMIT $2)`,
    [olderThanDays, batchSize],
  );
  return result.rowCount ?? 0;
}
