/**
 * SLA reports (`sla_reports`): one row per provider, window and period end (a re-run overwrites),
 * computed by the slaReport activity from probe results and real call outcomes. The API lists
 * them and exports the latest availability as a metric.
 */
import type { Pool } from 'pg';
import type { SlaProviderReport } from '../../contracts/monitoring';

type Queryable = Pick<Pool, 'query'>;

export interface SlaFigureRow {
  probes: string;
  probes_ok: string;
  calls: string;
  calls_failed: string;
  p95: number | null;
}

export interface SlaReportRow {
  provider: string;
  time_window: string;
  period_start: Date;
  period_end: Date;
  probes: number;
  calls: number;
  availability: number | null;
  p95_ms: number | null;
  error_rate: number | null;
  target: unknown;
  violations: string[];
  compliant: boolean;
}

/** Probe and real-call counts in (start, end], and the p95 of every probe latency and call duration. */
export async function slaFigures(pool: Queryable, provider: string, start: Date, end: Date): Promise<SlaFigureRow> {
  const { rows } = await pool.query<SlaFigureRow>(
    `WITH probes AS (SELECT ok, latency_ms FROM probe_results WHERE provider = $1 AND at > $2 AND at <= $3),
          calls AS (SELECT success, duration_ms FROM provider_call_outcomes
                     WHERE provider = $1 AND operation <> 'probe' AND at > $2 AND at <= $3)
     SELECT (SELECT count(*) FROM probes) AS probes,
            (SELECT count(*) FILTER (WHERE ok) FROM probes) AS probes_ok,
            (SELECT count(*) FROM calls) AS calls,
            (SELECT count(*) FILTER (WHERE NOT success) FROM calls) AS calls_failed,
            (SELECT percentile_disc(0.95) WITHIN GROUP (ORDER BY ms)
               FROM (SELECT latency_ms AS ms FROM probes UNION ALL SELECT duration_ms FROM calls) l) AS p95`,
    [provider, start, end],
  );
  return rows[0]!;
}

/** Stores the report (a re-run of the same period overwrites it). */
export async function upsertSlaReport(pool: Queryable, report: SlaProviderReport): Promise<void> {
  await pool.query(
    `INSERT INTO sla_reports (provider, time_window, period_start, period_end, probes, calls, availability, p95_ms,
                              error_rate, target, violations, compliant)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
     ON CONFLICT (provider, time_window, period_end) DO UPDATE SET probes = EXCLUDED.probes, calls = EXCLUDED.calls,
       availability = EXCLUDED.availability, p95_ms = EXCLUDED.p95_ms, error_rate = EXCLUDED.error_rate,
       target = EXCLUDED.target, violations = EXCLUDED.violations, compliant = EXCLUDED.compliant, created_at = now()`,
    [report.provider, report.window, report.periodStart, report.periodEnd, report.probes, report.calls, report.availability, report.p95Ms,
      report.errorRate, JSON.stringify(report.target), JSON.stringify(report.violations), report.compliant],
  );
}

/** What a filtered list of reports holds in all, beyond its page: a report without probes or calls has no data. */
export interface SlaReportTotals {
  total: number;
  noData: number;
  /** Compliant reports among those with data. */
  compliant: number;
}

/**
 * A page of reports, newest period first, optionally of one provider and one window, with the
 * totals over every report the filters match (not only the page's).
 */
export async function listSlaReports(
  pool: Queryable,
  filters: { provider?: string; window?: string; limit: number; offset?: number },
): Promise<{ rows: SlaReportRow[]; totals: SlaReportTotals }> {
  const where = 'WHERE ($1::text IS NULL OR provider = $1) AND ($2::text IS NULL OR time_window = $2)';
  const params = [filters.provider ?? null, filters.window ?? null];
  const [page, counted] = await Promise.all([
    pool.query<SlaReportRow>(
      `SELECT provider, time_window, period_start, period_end, probes, calls, availability, p95_ms, error_rate, target, violations, compliant
         FROM sla_reports ${where} ORDER BY period_end DESC, provider LIMIT $3 OFFSET $4`,
      [...params, filters.limit, filters.offset ?? 0],
    ),
    pool.query<{ total: string; no_data: string; compliant: string }>(
      `SELECT count(*) AS total, count(*) FILTER (WHERE probes = 0 AND calls = 0) AS no_data,
              count(*) FILTER (WHERE compliant AND NOT (probes = 0 AND calls = 0)) AS compliant
         FROM sla_reports ${where}`,
      params,
    ),
  ]);
  const t = counted.rows[0];
  return { rows: page.rows, totals: { total: Number(t?.total ?? 0), noData: Number(t?.no_data ?? 0), compliant: Number(t?.compliant ?? 0) } };
}

/** The availability of the latest report per provider and window (reports with figures only). */
export async function latestSlaAvailability(pool: Queryable): Promise<Array<{ provider: string; time_window: string; availability: number }>> {
  const { rows } = await pool.query<{ provider: string; time_window: string; availability: number }>(
    `SELECT DISTINCT ON (provider, time_window) provider, time_window, availability
       FROM sla_reports WHERE availability IS NOT NULL ORDER BY provider, time_window, period_end DESC`,
  );
  return rows;
}
