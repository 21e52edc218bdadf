/**
 * Provider requests per provider, minute and outcome (`provider_request_counts`): what the
 * rate-limit status reads as recent use and throttles. The call activity adds one per attempt
 * that reached the provider (calls and batch flushes; probes and circuit-open refusals are not
 * requests against the provider's quota). Every worker adds to the same rows, so the figures are
 * the fleet's, not one process's like `provider_requests_total`.
 */
import type { Pool } from 'pg';

type Queryable = Pick<Pool, 'query'>;

export const requestOutcomes = ['success', 'rejected', 'throttled', 'unavailable'] as const;
export type RequestOutcome = (typeof requestOutcomes)[number];

/** Adds one request of this outcome to the provider's current minute. */
export async function countProviderRequest(pool: Queryable, provider: string, outcome: RequestOutcome): Promise<void> {
  await pool.query(
    `INSERT INTO provider_request_counts AS c (provider, minute, outcome, requests) VALUES ($1, date_trunc('minute', now()), $2, 1)
     ON CONFLICT (provider, minute, outcome) DO UPDATE SET requests = c.requests + 1`,
    [provider, outcome],
  );
}

export interface RequestUseRow {
  provider: string;
  /** Requests in the last full minute and the current one, every outcome. */
  lastMinute: number;
  /** Requests in the last hour, every outcome. */
  lastHour: number;
  /** The busiest minute of the last hour. */
  peakMinute: number;
  throttledLastMinute: number;
  throttledLastHour: number;
  lastThrottledAt: Date | null;
}

/** Recent use of each named provider (zeros for a provider without requests). */
export async function recentRequestUse(pool: Queryable, providers: string[]): Promise<RequestUseRow[]> {
  const { rows } = await pool.query<RequestUseRow>(
    `WITH recent AS (
       SELECT provider, minute, outcome, requests FROM provider_request_counts
        WHERE provider = ANY($1) AND minute >= date_trunc('minute', now()) - interval '1 hour'),
     per_minute AS (SELECT provider, minute, sum(requests) AS n FROM recent GROUP BY 1, 2)
     SELECT p.name AS provider,
            coalesce((SELECT sum(requests) FROM recent r WHERE r.provider = p.name AND r.minute >= date_trunc('minute', now()) - interval '1 minute'), 0)::float8 AS "lastMinute",
            coalesce((SELECT sum(requests) FROM recent r WHERE r.provider = p.name), 0)::float8 AS "lastHour",
            coalesce((SELECT max(n) FROM per_minute m WHERE m.provider = p.name), 0)::float8 AS "peakMinute",
            coalesce((SELECT sum(requests) FROM recent r WHERE r.provider = p.name AND r.outcome = 'throttled'
                        AND r.minute >= date_trunc('minute', now()) - interval '1 minute'), 0)::float8 AS "throttledLastMinute",
            coalesce((SELECT sum(requests) FROM recent r WHERE r.provider = p.name AND r.outcome = 'throttled'), 0)::float8 AS "throttledLastHour",
            (SELECT max(minute) FROM provider_request_counts t WHERE t.provider = p.name AND t.outcome = 'throttled') AS "lastThrottledAt"
       FROM unnest($1::text[]) AS p(name) ORDER BY p.name`,
    [providers],
  );
  return rows;
}

/** Requests and throttles per provider over [from, to) (read to the minute). */
export async function requestTotals(pool: Queryable, range: { from: Date; to: Date }): Promise<Array<{ provider: string; requests: number; throttled: number; failed: number }>> {
  const { rows } = await pool.query<{ provider: string; requests: number; throttled: number; failed: number }>(
    `SELECT provider, sum(requests)::float8 AS requests,
            coalesce(sum(requests) FILTER (WHERE outcome = 'throttled'), 0)::float8 AS throttled,
            coalesce(sum(requests) FILTER (WHERE outcome IN ('rejected', 'unavailable')), 0)::float8 AS failed
       FROM provider_request_counts WHERE minute >= date_trunc('minute', $1::timestamptz) AND minute < $2
      GROUP BY provider ORDER BY provider`,
    [range.from, range.to],
  );
  return rows;
}

/** Retention: deletes at most `batchSize` minute counters older than `olderThanDays`. */
export async function pruneRequestCounts(pool: Queryable, olderThanDays: number, batchSize: number): Promise<number> {
  const result = await pool.query(
    `DELETE FROM provider_request_counts WHERE ctid IN (SELECT ctid FROM provider_request_counts WHERE minute < now() - make_interval(days => $1) LIMIT $2)`,
    [olderThanDays, batchSize],
  );
  return result.rowCount ?? 0;
}
