/**
 * slaReport's activity: availability, p95 latency and error rate per provider over an hourly or
 * daily window, from probe results and real call outcomes, compared with the registry's SLA
 * thresholds and stored (lib/data/sla-reports.ts: one row per provider, window and period end; a
 * re-run overwrites).
 *   availability = successful probes / probes (without probes: successful calls / calls)
 *   p95          = 95th percentile (nearest rank) of every probe latency and call duration
 *   error rate   = failed real calls / real calls (probe outcomes excluded)
 */
import type { Pool } from 'pg';
import { publishEvent } from '../lib/data/event-stream';
import { slaFigures, upsertSlaReport } from '../lib/data/sla-reports';
import { providerNamed, type ProviderRegistry, type SlaConfig } from '../lib/config/registry';
import type { SlaProviderReport, SlaReportInput, SlaWindow } from '../contracts/monitoring';

export const slaWindowMs: Record<SlaWindow, number> = { hourly: 3_600_000, daily: 86_400_000 };

const percent = (value: number): string => `${(Math.round(value * 100_000) / 1000).toString()}%`;

/** Which thresholds a window's figures break (empty: compliant). No data breaks nothing. */
export function slaViolations(figures: Pick<SlaProviderReport, 'availability' | 'p95Ms' | 'errorRate'>, target: SlaConfig): string[] {
  const violations: string[] = [];
  if (figures.availability !== null && figures.availability < target.availability) {
    violations.push(`availability ${percent(figures.availability)} < ${percent(target.availability)}`);
  }
  if (figures.p95Ms !== null && figures.p95Ms > target.p95Ms) violations.push(`p95 ${figures.p95Ms} ms > ${target.p95Ms} ms`);
  if (figures.errorRate !== null && figures.errorRate > target.errorRate) {
    violations.push(`error rate ${percent(figures.errorRate)} > ${percent(target.errorRate)}`);
  }
  return violations;
}

export function createSlaActivities(deps: { pool: Pool; registry: ProviderRegistry }) {
  const { pool, registry } = deps;
  return {
    async computeSlaReports(input: SlaReportInput): Promise<SlaProviderReport[]> {
      const end = input.end ? new Date(input.end) : new Date();
      end.setMilliseconds(0);
      const start = new Date(end.getTime() - slaWindowMs[input.window]);
      const providers = (input.providers ?? Object.keys(registry)).filter((p) => providerNamed(registry, p));
      const reports: SlaProviderReport[] = [];
      for (const provider of providers) {
        const target = providerNamed(registry, provider)!.sla;
        const row = await slaFigures(pool, provider, start, end);
        const probes = Number(row.probes);
        const calls = Number(row.calls);
        const failed = Number(row.calls_failed);
        const availability = probes > 0 ? Number(row.probes_ok) / probes : calls > 0 ? (calls - failed) / calls : null;
        const figures = { availability, p95Ms: row.p95 === null ? null : Number(row.p95), errorRate: calls > 0 ? failed / calls : null };
        const violations = slaViolations(figures, target);
        const report: SlaProviderReport = {
          provider,
          window: input.window,
          periodStart: start.toISOString(),
          periodEnd: end.toISOString(),
          probes,
          calls,
          ...figures,
          target: { ...target },
          violations,
          compliant: violations.length === 0,
        };
        await upsertSlaReport(pool, report);
        if (!report.compliant) {
          await publishEvent(pool, { topic: 'sla', tenant: null, data: { provider, window: input.window, periodEnd: report.periodEnd, violations } });
        }
        reports.push(report);
      }
      return reports;
    },
  };
}
