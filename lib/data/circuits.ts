/**
 * Circuit breaker per provider, shared by every worker through one PostgreSQL row per provider
 * (ARCHITECTURE.md "Shared state"). closed → open after N consecutive failures or an error rate
 * over a window; open → half-open after the cool-down; half-open → closed after M successes, or
 * straight back to open on a failure. Each transition happens inside one transaction holding the
 * row lock, so concurrent workers agree. Every call outcome is a row of `provider_call_outcomes`,
 * which the error-rate trip and the weighted failover's routing figures read.
 */
import type { Pool, PoolClient } from 'pg';
import { providerNamed, type CircuitConfig, type ProviderRegistry } from '../config/registry';
import { bucketOf, bucketParams, inRange, type TimeBuckets } from './time-buckets';

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitView {
  provider: string;
  state: CircuitState;
  consecutiveFailures: number;
  /** ms until an open circuit half-opens; 0 otherwise. */
  remainingOpenMs: number;
  openUntil: string | null;
}

interface CircuitRow {
  provider: string;
  state: CircuitState;
  consecutive_failures: number;
  half_open_successes: number;
  open_until: Date | null;
  remaining_ms: string | null;
}

const SELECT_FOR_UPDATE = `
  SELECT provider, state, consecutive_failures, half_open_successes, open_until,
         GREATEST(0, EXTRACT(EPOCH FROM (open_until - now())) * 1000)::bigint AS remaining_ms
    FROM circuit_breakers WHERE provider = $1 FOR UPDATE`;

function toView(row: CircuitRow): CircuitView {
  const remaining = row.state === 'open' ? Number(row.remaining_ms ?? 0) : 0;
  return {
    provider: row.provider,
    state: row.state,
    consecutiveFailures: row.consecutive_failures,
    remainingOpenMs: remaining,
    openUntil: row.open_until ? row.open_until.toISOString() : null,
  };
}

async function inTransaction<T>(pool: Pool, provider: string, run: (client: PoolClient, row: CircuitRow) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('INSERT INTO circuit_breakers (provider) VALUES ($1) ON CONFLICT DO NOTHING', [provider]);
    const { rows } = await client.query<CircuitRow>(SELECT_FOR_UPDATE, [provider]);
    const result = await run(client, rows[0]!);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

async function openCircuit(client: PoolClient, provider: string, config: CircuitConfig): Promise<void> {
  await client.query(
    `UPDATE circuit_breakers SET state = 'open', opened_at = now(),
            open_until = now() + make_interval(secs => $2), half_open_successes = 0, updated_at = now()
      WHERE provider = $1`,
    [provider, config.coolDownSeconds],
  );
}

/**
 * The weighted failover's inputs per provider (activities/routing.ts): probes and calls over the
 * last `windowSeconds`, how many succeeded, and the p95 duration of the successful ones. Providers
 * without any are absent. Naming the providers lets the (provider, at) index serve the range.
 */
export async function routingFigures(
  pool: Pool,
  providers: string[],
  windowSeconds: number,
): Promise<Map<string, { attempts: number; ok: number; p95Ms: number | null }>> {
  const { rows } = await pool.query<{ provider: string; attempts: number; ok: number; p95_ms: number | null }>(
    `SELECT provider, count(*)::int AS attempts, (count(*) FILTER (WHERE success))::int AS ok,
            percentile_disc(0.95) WITHIN GROUP (ORDER BY duration_ms) FILTER (WHERE success) AS p95_ms
       FROM provider_call_outcomes WHERE provider = ANY($1) AND at > now() - make_interval(secs => $2)
      GROUP BY provider`,
    [providers, windowSeconds],
  );
  return new Map(rows.map((r) => [r.provider, { attempts: r.attempts, ok: r.ok, p95Ms: r.p95_ms === null ? null : Number(r.p95_ms) }]));
}

export interface CallBucketRow {
  provider: string;
  bucket: Date;
  calls: number;
  ok: number;
}

/**
 * Real calls (probes left out) of the providers per time bucket (lib/data/time-buckets.ts), every
 * tenant's: the table has no tenant, like the circuit it feeds. Naming the providers lets the
 * (provider, at) index serve the range.
 */
export async function callOutcomeSeries(pool: Pool, providers: string[], buckets: TimeBuckets): Promise<CallBucketRow[]> {
  const { rows } = await pool.query<CallBucketRow>(
    `SELECT provider, ${bucketOf('at')} AS bucket, count(*)::int AS calls, (count(*) FILTER (WHERE success))::int AS ok
       FROM provider_call_outcomes WHERE ${inRange('at')} AND provider = ANY($4) AND operation <> 'probe'
      GROUP BY 1, 2 ORDER BY 2`,
    [...bucketParams(buckets), providers],
  );
  return rows;
}

export function createCircuitBreaker(pool: Pool, registry: ProviderRegistry) {
  const configOf = (provider: string): CircuitConfig => {
    const config = providerNamed(registry, provider);
    if (!config) throw new Error(`unknown provider ${provider}`);
    return config.circuit;
  };

  return {
    /** May a call go to this provider now? An open circuit whose cool-down ended becomes half-open. */
    async admit(provider: string): Promise<CircuitView> {
      return inTransaction(pool, provider, async (client, row) => {
        if (row.state === 'open' && Number(row.remaining_ms ?? 0) <= 0) {
          await client.query(
            `UPDATE circuit_breakers SET state = 'half_open', half_open_successes = 0, updated_at = now() WHERE provider = $1`,
            [provider],
          );
          return toView({ ...row, state: 'half_open' });
        }
        return toView(row);
      });
    },

    /** Records one call outcome and moves the circuit accordingly. Returns the state after. */
    async recordOutcome(
      provider: string,
      outcome: { operation: string; success: boolean; status: number | null; durationMs: number },
    ): Promise<CircuitState> {
      const config = configOf(provider);
      await pool.query(
        'INSERT INTO provider_call_outcomes (provider, operation, success, status, duration_ms) VALUES ($1, $2, $3, $4, $5)',
        [provider, outcome.operation, outcome.success, outcome.status, Math.round(outcome.durationMs)],
      );
      return inTransaction(pool, provider, async (client, row) => {
        if (outcome.success) {
          if (row.state === 'half_open' && row.half_open_successes + 1 >= config.successThreshold) {
            await client.query(
              `UPDATE circuit_breakers SET state = 'closed', consecutive_failures = 0, half_open_successes = 0,
                      opened_at = NULL, open_until = NULL, updated_at = now() WHERE provider = $1`,
              [provider],
            );
            return 'closed';
          }
          await client.query(
            `UPDATE circuit_breakers SET consecutive_failures = 0,
                    half_open_successes = half_open_successes + CASE WHEN state = 'half_open' THEN 1 ELSE 0 END,
                    updated_at = now() WHERE provider = $1`,
            [provider],
          );
          return row.state;
        }
        if (row.state === 'half_open') {
          await openCircuit(client, provider, config);
          return 'open';
        }
        const failures = row.consecutive_failures + 1;
        await client.query(
          'UPDATE circuit_breakers SET consecutive_failures = $2, updated_at = now() WHERE provider = $1',
          [provider, failures],
        );
        if (row.state === 'closed') {
          const rate = await client.query<{ total: string; failed: string }>(
            `SELECT count(*) AS total, count(*) FILTER (WHERE NOT success) AS failed
               FROM provider_call_outcomes WHERE provider = $1 AND at > now() - make_interval(secs => $2)`,
            [provider, config.windowSeconds],
          );
          const total = Number(rate.rows[0]!.total);
          const failed = Number(rate.rows[0]!.failed);
          const rateTripped = total >= config.minimumRequests && failed / total >= config.errorRateThreshold;
          if (failures >= config.failureThreshold || rateTripped) {
            await openCircuit(client, provider, config);
            return 'open';
          }
        }
        return row.state;
      });
    },

    /**
     * An operator's reset: closes the provider's circuit now (failure count and cool-down cleared),
     * in the same row lock as every transition. Returns the state before and after.
     */
    async reset(provider: string): Promise<{ before: CircuitView; after: CircuitView }> {
      configOf(provider);
      return inTransaction(pool, provider, async (client, row) => {
        const { rows } = await client.query<CircuitRow>(
          `UPDATE circuit_breakers SET state = 'closed', consecutive_failures = 0, half_open_successes = 0,
                  opened_at = NULL, open_until = NULL, updated_at = now() WHERE provider = $1
           RETURNING provider, state, consecutive_failures, half_open_successes, open_until, 0::bigint AS remaining_ms`,
          [provider],
        );
        return { before: toView(row), after: toView(rows[0]!) };
      });
    },

    async list(): Promise<CircuitView[]> {
      const { rows } = await pool.query<CircuitRow>(
        `SELECT provider, state, consecutive_failures, half_open_successes, open_until,
                GREATEST(0, EXTRACT(EPOCH FROM (open_until - now())) * 1000)::bigint AS remaining_ms
           FROM circuit_breakers ORDER BY provider`,
      );
      const known = new Map(rows.map((r) => [r.provider, toView(r)]));
      return Object.keys(registry).map(
        (provider) => known.get(provider) ?? { provider, state: 'closed', consecutiveFailures: 0, remainingOpenMs: 0, openUntil: null },
      );
    },
  };
}

export type CircuitBreaker = ReturnType<typeof createCircuitBreaker>;
