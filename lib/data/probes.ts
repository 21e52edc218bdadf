/**
 * Provider health (`probe_results`, `provider_health`): one row per health probe (keyed by the
 * probe's activity, so a re-run records nothing twice) and one row per provider with its latest
 * status and score. The probe activity writes both; the API's GET /provider-health and its
 * metrics read them; retention prunes old probe results.
 */
import type { Pool } from 'pg';
import { bucketOf, bucketParams, inRange, type TimeBuckets } from './time-buckets';

type Queryable = Pick<Pool, 'query'>;

export interface ProbeResult {
  ok: boolean;
  status: number | null;
  latencyMs: number;
  error: string | null;
}

export interface ProviderHealthRow {
  provider: string;
  status: string;
  score: number;
  last_latency_ms: number;
  last_probe_ok: boolean;
  changed_at: Date;
  updated_at: Date;
}

/** Records one probe unless its key is there already; true when this call recorded it. */
export async function insertProbeResult(pool: Queryable, provider: string, result: ProbeResult, probeKey: string | null): Promise<boolean> {
  const inserted = await pool.query(
    `INSERT INTO probe_results (provider, ok, status, latency_ms, error, probe_key) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (probe_key) WHERE probe_key IS NOT NULL DO NOTHING`,
    [provider, result.ok, result.status, result.latencyMs, result.error, probeKey],
  );
  return inserted.rowCount === 1;
}

/** The probe recorded under this key. */
export async function probeResultOf(pool: Queryable, probeKey: string | null): Promise<ProbeResult> {
  const { rows } = await pool.query<{ ok: boolean; status: number | null; latency_ms: number; error: string | null }>(
    'SELECT ok, status, latency_ms, error FROM probe_results WHERE probe_key = $1',
    [probeKey],
  );
  const first = rows[0]!;
  return { ok: first.ok, status: first.status, latencyMs: first.latency_ms, error: first.error };
}

/** Probe and real-call counts over the last `windowMinutes`, and the p95 latency of successful probes. */
export async function probeHealthFigures(
  pool: Queryable,
  provider: string,
  windowMinutes: number,
): Promise<{ probes: string; ok: string; p95: number | null; calls: string; failed: string }> {
  const { rows } = await pool.query<{ probes: string; ok: string; p95: number | null; calls: string; failed: string }>(
    `SELECT p.probes, p.ok, p.p95, c.calls, c.failed FROM
       (SELECT count(*) AS probes, count(*) FILTER (WHERE ok) AS ok,
               percentile_disc(0.95) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE ok) AS p95
          FROM probe_results WHERE provider = $1 AND at > now() - make_interval(mins => $2)) p,
       (SELECT count(*) AS calls, count(*) FILTER (WHERE NOT success) AS failed
          FROM provider_call_outcomes WHERE provider = $1 AND operation <> 'probe' AND at > now() - make_interval(mins => $2)) c`,
    [provider, windowMinutes],
  );
  return rows[0]!;
}

/**
 * Upserts the provider's health; returns the status it replaced (a re-run of the same probe keeps
 * the status its first run replaced, so a change is published once).
 */
export async function upsertProviderHealth<Status extends string>(
  pool: Queryable,
  health: { provider: string; status: Status; score: number; latencyMs: number; ok: boolean; probeKey: string | null },
): Promise<Status | null> {
  const { rows } = await pool.query<{ previous: Status | null }>(
    `INSERT INTO provider_health (provider, status, score, last_latency_ms, last_probe_ok, last_probe_key)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (provider) DO UPDATE SET status = EXCLUDED.status, score = EXCLUDED.score,
       last_latency_ms = EXCLUDED.last_latency_ms, last_probe_ok = EXCLUDED.last_probe_ok, updated_at = now(),
       previous_status = CASE WHEN provider_health.last_probe_key = EXCLUDED.last_probe_key
         THEN provider_health.previous_status ELSE provider_health.status END,
       last_probe_key = EXCLUDED.last_probe_key,
       changed_at = CASE WHEN provider_health.status = EXCLUDED.status THEN provider_health.changed_at ELSE now() END
     RETURNING previous_status AS previous`,
    [health.provider, health.status, health.score, health.latencyMs, health.ok, health.probeKey],
  );
  return rows[0]?.previous ?? null;
}

/** Every provider's latest health row. */
export async function providerHealthRows(pool: Queryable): Promise<ProviderHealthRow[]> {
  const { rows } = await pool.query<ProviderHealthRow>(
    'SELECT provider, status, score, last_latency_ms, last_probe_ok, changed_at, updated_at FROM provider_health',
  );
  return rows;
}

/** p95 probe latency over the last hour per provider (nearest rank, as the SLA report). */
export async function probeP95LastHour(pool: Queryable, providers: string[]): Promise<Array<{ provider: string; p95_ms: number | null }>> {
  const { rows } = await pool.query<{ provider: string; p95_ms: number | null }>(
    `SELECT provider, percentile_disc(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95_ms
       FROM probe_results WHERE provider = ANY($1) AND at >= now() - interval '1 hour' GROUP BY provider`,
    [providers],
  );
  return rows;
}

/** The last `perProvider` probes of each provider, newest first. */
export async function recentProbes(
  pool: Queryable,
  providers: string[],
  perProvider: number,
): Promise<Array<{ provider: string; ok: boolean; status: number | null; latency_ms: number; error: string | null; at: Date }>> {
  const { rows } = await pool.query<{ provider: string; ok: boolean; status: number | null; latency_ms: number; error: string | null; at: Date }>(
    `SELECT r.provider, r.ok, r.status, r.latency_ms, r.error, r.at
       FROM unnest($1::text[]) AS p(name)
       CROSS JOIN LATERAL (SELECT * FROM probe_results WHERE provider = p.name ORDER BY at DESC LIMIT $2) r`,
    [providers, perProvider],
  );
  return rows;
}

/** Retention: deletes at most `batchSize` probe results older than `olderThanDays`; returns how many. */
export async function pruneProbeResults(pool: Queryable, olderThanDays: number, batchSize: number): Promise<number> {
  const result = await pool.query(
    `DELETE FROM probe_results
      WHERE id IN (SELECT id FROM probe_results
                    WHERE at < now() - make_interval(days => $1)
                    ORDER BY at LIMIT $2
                    FOR UPDATE SKIP LOCKED)`,
    [olderThanDays, batchSize],
  );
  return result.rowCount ?? 0;
}

export interface ProbeBucketRow {
  provider: string;
  bucket: Date;
  probes: number;
  ok: number;
  /** Nearest-rank percentiles of the successful probes' latency (none succeeded: null). */
  p50_ms: number | null;
  p95_ms: number | null;
}

/** Probes per provider and time bucket (lib/data/time-buckets.ts): counts and p50/p95 latency. */
export async function probeSeries(pool: Queryable, providers: string[], buckets: TimeBuckets): Promise<ProbeBucketRow[]> {
  const { rows } = await pool.query<ProbeBucketRow>(
    `SELECT provider, ${bucketOf('at')} AS bucket, count(*)::int AS probes, (count(*) FILTER (WHERE ok))::int AS ok,
            percentile_disc(0.5) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE ok) AS p50_ms,
            percentile_disc(0.95) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE ok) AS p95_ms
       FROM probe_results WHERE ${inRange('at')} AND provider = ANY($4)
      GROUP BY 1, 2 ORDER BY 2`,
    [...bucketParams(buckets), providers],
  );
  return rows;
}
