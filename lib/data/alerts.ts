/**
 * Alerts (`alerts`): the saved state of each alert workflow (`alert:{rule}:{fingerprint}`), upserted
 * by the alert activity as the run moves, for the API, the stream and the metrics. Raising an alert
 * reads it to leave an open one alone (lib/temporal/alert-runs.ts).
 */
import type { Pool } from 'pg';
import type { AlertView } from '../../contracts/monitoring';

type Queryable = Pick<Pool, 'query'>;

export interface AlertRow {
  id: string;
  run_id: string;
  rule: string;
  fingerprint: string;
  severity: string;
  provider: string | null;
  summary: string;
  state: string;
  escalation_level: number;
  notifications: unknown;
  acknowledged_by: string | null;
  started_at: Date;
  acknowledged_at: Date | null;
  resolved_at: Date | null;
  updated_at: Date;
}

/** Upserts the alert's row. */
export async function upsertAlert(pool: Queryable, alert: AlertView): Promise<void> {
  await pool.query(
    `INSERT INTO alerts (id, run_id, rule, fingerprint, severity, provider, summary, state, escalation_level, notifications,
                         acknowledged_by, started_at, acknowledged_at, resolved_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
     ON CONFLICT (id) DO UPDATE SET run_id = EXCLUDED.run_id, severity = EXCLUDED.severity, summary = EXCLUDED.summary,
       state = EXCLUDED.state, escalation_level = EXCLUDED.escalation_level, notifications = EXCLUDED.notifications,
       acknowledged_by = EXCLUDED.acknowledged_by, started_at = EXCLUDED.started_at,
       acknowledged_at = EXCLUDED.acknowledged_at, resolved_at = EXCLUDED.resolved_at, updated_at = now()`,
    [alert.id, alert.runId, alert.rule, alert.fingerprint, alert.severity, alert.provider ?? null, alert.summary, alert.state,
      alert.escalationLevel, JSON.stringify(alert.notifications), alert.acknowledgedBy, alert.startedAt, alert.acknowledgedAt,
      alert.resolvedAt],
  );
}

/** The alert's saved state, or undefined when it has no row yet. */
export async function alertState(pool: Queryable, id: string): Promise<string | undefined> {
  const { rows } = await pool.query<{ state: string }>('SELECT state FROM alerts WHERE id = $1', [id]);
  return rows[0]?.state;
}

export async function findAlert(pool: Queryable, id: string): Promise<AlertRow | undefined> {
  const { rows } = await pool.query<AlertRow>('SELECT * FROM alerts WHERE id = $1', [id]);
  return rows[0];
}

/** Alerts in this state (`open`: any but resolved; none: all), most recently changed first. */
export async function listAlerts(pool: Queryable, state: string | undefined, limit: number, offset = 0): Promise<{ rows: AlertRow[]; total: number }> {
  const where = `WHERE ($1::text IS NULL OR state = $1 OR ($1 = 'open' AND state <> 'resolved'))`;
  const [page, counted] = await Promise.all([
    pool.query<AlertRow>(`SELECT * FROM alerts ${where} ORDER BY updated_at DESC, id DESC LIMIT $2 OFFSET $3`, [state ?? null, limit, offset]),
    pool.query<{ total: string }>(`SELECT count(*) AS total FROM alerts ${where}`, [state ?? null]),
  ]);
  return { rows: page.rows, total: Number(counted.rows[0]?.total ?? 0) };
}

/** How many alerts are open, by rule, severity and state. */
export async function openAlertCounts(pool: Queryable): Promise<Array<{ rule: string; severity: string; state: string; n: string }>> {
  const { rows } = await pool.query<{ rule: string; severity: string; state: string; n: string }>(
    `SELECT rule, severity, state, count(*) AS n FROM alerts WHERE state <> 'resolved' GROUP BY rule, severity, state`,
  );
  return rows;
}

export interface AlertStatisticsRow {
  /** null: every severity together. */
  severity: string | null;
  total: number;
  firing: number;
  acknowledged: number;
  resolved: number;
  acked: number;
  ack_mean_s: number | null;
  ack_p50_s: number | null;
  ack_p95_s: number | null;
  ack_max_s: number | null;
  resolve_mean_s: number | null;
  resolve_p50_s: number | null;
  resolve_p95_s: number | null;
  resolve_max_s: number | null;
}

/**
 * Alerts started in [from, to): how many per severity and state, and how long they took to be
 * acknowledged and to resolve (seconds from the start; only the alerts that were), per severity
 * and over all of them (the row with severity null).
 */
export async function alertStatistics(pool: Queryable, range: { from: Date; to: Date }): Promise<AlertStatisticsRow[]> {
  const ack = `EXTRACT(EPOCH FROM (acknowledged_at - started_at))`;
  const resolve = `EXTRACT(EPOCH FROM (resolved_at - started_at))`;
  const { rows } = await pool.query<AlertStatisticsRow>(
    `SELECT severity, count(*)::int AS total,
            (count(*) FILTER (WHERE state = 'firing'))::int AS firing,
            (count(*) FILTER (WHERE state = 'acknowledged'))::int AS acknowledged,
            (count(*) FILTER (WHERE state = 'resolved'))::int AS resolved,
            (count(*) FILTER (WHERE acknowledged_at IS NOT NULL))::int AS acked,
            avg(${ack})::float8 AS ack_mean_s,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY ${ack}) AS ack_p50_s,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY ${ack}) AS ack_p95_s,
            max(${ack})::float8 AS ack_max_s,
            avg(${resolve})::float8 AS resolve_mean_s,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY ${resolve}) AS resolve_p50_s,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY ${resolve}) AS resolve_p95_s,
            max(${resolve})::float8 AS resolve_max_s
       FROM alerts WHERE started_at >= $1 AND started_at < $2
      GROUP BY GROUPING SETS ((severity), ())`,
    [range.from, range.to],
  );
  return rows;
}
