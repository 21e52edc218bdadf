/**
 * The scheduled monitoring workflows (ARCHITECTURE.md table): `healthProbe`, run by one Schedule
 * per provider, probes it and raises or resolves its alerts; `slaReport`, run by the hourly and
 * daily Schedules, compares each provider's window with its SLA and alerts on violations;
 * `costAnomalyCheck`, run every 5 minutes, alerts on spend far above its trailing baseline
 * (lib/data/budgets.ts). Alerts are started by id through an activity (signal-with-start), so one
 * condition is one alert.
 */
import { proxyLocalActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { CostAnomaly, CostAnomalyCheckInput, HealthProbeInput, ProbeOutcome, SlaProviderReport, SlaReportInput } from '../contracts/monitoring';
import { localActivityOptions } from './policies';

type Activities = ReturnType<typeof createActivities>;

const { probeProvider } = proxyLocalActivities<Activities>(localActivityOptions('probeProvider'));
const { computeSlaReports } = proxyLocalActivities<Activities>(localActivityOptions('computeSlaReports'));
const { raiseAlert } = proxyLocalActivities<Activities>(localActivityOptions('raiseAlert'));
const { resolveAlert } = proxyLocalActivities<Activities>(localActivityOptions('resolveAlert'));
const { evaluateCostAnomalies } = proxyLocalActivities<Activities>(localActivityOptions('evaluateCostAnomalies'));

/** The alert rules the monitoring workflows raise, with their severities. */
export const monitoringRules = {
  providerDown: { rule: 'provider-down', severity: 'high' },
  providerDegraded: { rule: 'provider-degraded', severity: 'medium' },
  slaViolation: { rule: 'sla-violation', severity: 'medium' },
  costAnomaly: { rule: 'cost-anomaly', severity: 'high' },
} as const;

function usd(value: number): string {
  return `$${value.toFixed(2)}`;
}

/** Raises `alert:cost-anomaly:{provider}` for each anomalous provider and resolves it for the others. */
export async function costAnomalyCheck(input: CostAnomalyCheckInput = {}): Promise<CostAnomaly[]> {
  const results = await evaluateCostAnomalies(input);
  const { costAnomaly } = monitoringRules;
  for (const result of results) {
    const { provider } = result;
    const minutes = Math.round((Date.parse(result.windowEnd) - Date.parse(result.windowStart)) / 60_000);
    if (result.anomalous) {
      const against = result.ratio === null
        ? `with no spend in its baseline`
        : `${result.ratio}× its baseline of ${usd(result.baselineUsdPerWindow ?? 0)} per ${minutes} min (alert above ${result.multiple}×)`;
      await raiseAlert({
        ...costAnomaly,
        fingerprint: provider,
        provider,
        summary: `${provider} spend anomaly: ${usd(result.windowUsd)} in the last ${minutes} min, ${against}`,
        details: { ...result },
      });
    } else {
      await resolveAlert({
        rule: costAnomaly.rule,
        fingerprint: provider,
        reason: `${provider} spent ${usd(result.windowUsd)} in the ${minutes} min to ${result.windowEnd}${result.ratio === null ? '' : ` (${result.ratio}× its baseline)`}`,
      });
    }
  }
  return results;
}

export async function healthProbe(input: HealthProbeInput): Promise<ProbeOutcome> {
  const outcome = await probeProvider(input);
  const { provider } = input;
  const details = { status: outcome.status, latencyMs: outcome.latencyMs, score: outcome.score, circuit: outcome.circuit };
  const { providerDown, providerDegraded } = monitoringRules;
  if (outcome.providerStatus === 'down') {
    await raiseAlert({
      ...providerDown,
      fingerprint: provider,
      provider,
      summary: `${provider} is down: its probe failed (${outcome.error ?? 'no answer'})`,
      details,
    });
    return outcome;
  }
  const answered = `${provider} answered its probe (HTTP ${outcome.status}) in ${outcome.latencyMs} ms`;
  await resolveAlert({ rule: providerDown.rule, fingerprint: provider, reason: answered });
  if (outcome.providerStatus === 'degraded') {
    await raiseAlert({
      ...providerDegraded,
      fingerprint: provider,
      provider,
      summary: `${provider} is degraded: health score ${outcome.score}`,
      details,
    });
  } else {
    await resolveAlert({ rule: providerDegraded.rule, fingerprint: provider, reason: `${answered}; health score ${outcome.score}` });
  }
  return outcome;
}

export async function slaReport(input: SlaReportInput): Promise<SlaProviderReport[]> {
  const reports = await computeSlaReports(input);
  const { slaViolation } = monitoringRules;
  for (const report of reports) {
    const fingerprint = `${report.provider}:${report.window}`;
    if (!report.compliant) {
      await raiseAlert({
        ...slaViolation,
        fingerprint,
        provider: report.provider,
        summary: `${report.provider} missed its SLA over the ${report.window} window ending ${report.periodEnd}: ${report.violations.join('; ')}`,
        details: { ...report },
      });
    } else if (report.probes + report.calls > 0) {
      await resolveAlert({ rule: slaViolation.rule, fingerprint, reason: `${report.window} window ending ${report.periodEnd} met the SLA` });
    }
  }
  return reports;
}
