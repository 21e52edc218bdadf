/**
 * Known rows for the chart tests (GET /stats/* and the console's charts): probes, call outcomes,
 * webhook ledger rows, cost ledger rows and SLA reports written straight into PostgreSQL at the
 * times a test chooses, so each bucket's expected value is known.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';

export async function insertProbe(pool: Pool, provider: string, at: Date, ok: boolean, latencyMs: number): Promise<void> {
  await pool.query('INSERT INTO probe_results (provider, ok, status, latency_ms, error, at) VALUES ($1, $2, $3, $4, $5, $6)', [
    provider, ok, ok ? 200 : 503, latencyMs, ok ? null : 'seeded failure', at,
  ]);
}

export async function insertCallOutcome(pool: Pool, provider: string, at: Date, success: boolean, operation = 'createPaymentIntent'): Promise<void> {
  await pool.query('INSERT INTO provider_call_outcomes (provider, operation, success, status, duration_ms, at) VALUES ($1, $2, $3, $4, $5, $6)', [
    provider, operation, success, success ? 200 : 500, 120, at,
  ]);
}

export async function insertWebhookRow(pool: Pool, tenant: string, provider: string, at: Date, status: 'received' | 'processing' | 'completed' | 'failed'): Promise<void> {
  const eventId = `evt_${randomUUID()}`;
  await pool.query(
    `INSERT INTO webhook_events (tenant, provider, event_id, event_type, workflow_id, status, payload, received_at, completed_at, started_at)
     VALUES ($1, $2, $3, 'seeded.event', $4, $5, '{}', $6, CASE WHEN $5 IN ('completed', 'failed') THEN $6::timestamptz END, $6)`,
    [tenant, provider, eventId, `webhook:${tenant}:${provider}:${eventId}`, status, at],
  );
}

export async function insertCost(pool: Pool, tenant: string, provider: string, at: Date, usd: number, status: 'reserved' | 'settled' | 'released' = 'settled'): Promise<void> {
  await pool.query(
    `INSERT INTO cost_ledger (reservation, tenant, provider, operation, workflow_id, amount_usd, status, created_at)
     VALUES ($1, $2, $3, 'seeded', $4, $5, $6, $7)`,
    [`seed:${randomUUID()}`, tenant, provider, `call:${tenant}:${provider}:seed`, usd, status, at],
  );
}

export async function insertSlaReport(
  pool: Pool,
  provider: string,
  periodEnd: Date,
  figures: { probes: number; calls: number; availability: number | null; compliant: boolean; violations?: string[] },
): Promise<void> {
  await pool.query(
    `INSERT INTO sla_reports (provider, time_window, period_start, period_end, probes, calls, availability, p95_ms, error_rate, target, violations, compliant)
     VALUES ($1, 'hourly', $2, $3, $4, $5, $6, NULL, NULL, $7, $8, $9)`,
    [provider, new Date(periodEnd.getTime() - 3_600_000), periodEnd, figures.probes, figures.calls, figures.availability,
      JSON.stringify({ availability: 0.99 }), JSON.stringify(figures.violations ?? []), figures.compliant],
  );
}
