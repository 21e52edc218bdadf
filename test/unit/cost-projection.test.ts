/**
 * Cost projection and the cost anomaly rule without a database: the run-rate month-end projection
 * (spent / elapsed fraction of the month, at least one hour elapsed), the anomaly verdict against
 * the trailing baseline (multiple, minimum spend, short or empty history) and the settings.
 */
import { assessCostAnomaly, elapsedFraction, projectMonthEnd, type MonthWindow } from '../../lib/data/budgets';
import { loadCostAnomalySettings, loadMonitoringConfig } from '../../lib/config/monitoring-config';

const april: Omit<MonthWindow, 'at'> = { start: new Date('2026-04-01T00:00:00Z'), end: new Date('2026-05-01T00:00:00Z') };
const at = (iso: string): MonthWindow => ({ ...april, at: new Date(iso) });
const HOUR = 3_600_000;

test('the month-end projection is spent so far / elapsed fraction of the month', () => {
  expect(elapsedFraction(at('2026-04-11T00:00:00Z'))).toBeCloseTo(1 / 3, 10);
  expect(projectMonthEnd(100, at('2026-04-11T00:00:00Z'))).toBe(300);
  expect(projectMonthEnd(45, at('2026-04-16T00:00:00Z'))).toBe(90);
  expect(projectMonthEnd(0, at('2026-04-20T00:00:00Z'))).toBe(0);
  // At the very end nothing is left to extrapolate.
  expect(projectMonthEnd(123.45, at('2026-05-01T00:00:00Z'))).toBe(123.45);
  // Five minutes into the month counts as one hour: 1 USD → 720 USD, not 8640.
  expect(projectMonthEnd(1, at('2026-04-01T00:05:00Z'))).toBe(720);
  // February is shorter: the same day-10 spend projects lower.
  const february = { start: new Date('2026-02-01T00:00:00Z'), end: new Date('2026-03-01T00:00:00Z'), at: new Date('2026-02-08T00:00:00Z') };
  expect(projectMonthEnd(70, february)).toBe(280);
});

const settings = loadCostAnomalySettings({});

test('default anomaly settings: 3× the trailing 7-day average per hour, from 1 USD an hour', () => {
  expect(settings).toEqual({ COST_ANOMALY_MULTIPLE: 3, COST_ANOMALY_WINDOW: HOUR, COST_ANOMALY_BASELINE: 7 * 24 * HOUR, COST_ANOMALY_MIN_USD: 1 });
  expect(loadCostAnomalySettings({ COST_ANOMALY_MULTIPLE: '2.5', COST_ANOMALY_WINDOW: '15m', COST_ANOMALY_BASELINE: '1d', COST_ANOMALY_MIN_USD: '0' })).toEqual({
    COST_ANOMALY_MULTIPLE: 2.5, COST_ANOMALY_WINDOW: 15 * 60_000, COST_ANOMALY_BASELINE: 86_400_000, COST_ANOMALY_MIN_USD: 0,
  });
  expect(() => loadCostAnomalySettings({ COST_ANOMALY_MULTIPLE: '0' })).toThrow(/COST_ANOMALY_MULTIPLE/);
  expect(() => loadMonitoringConfig({ COST_ANOMALY_WINDOW: 'an hour' })).toThrow(/COST_ANOMALY_WINDOW/);
  // The API reads only these: a broken alert channel does not stop it.
  expect(() => loadCostAnomalySettings({ ALERT_SMS_TO: 'not a number' })).not.toThrow();
});

test('anomalous: the window’s spend above the multiple of its baseline per window, and at least the minimum', () => {
  const week = 7 * 24 * HOUR;
  // Baseline 168 USD over 7 days = 1 USD per hour.
  expect(assessCostAnomaly({ windowUsd: 3, baselineUsd: 168, baselineCoveredMs: week }, settings)).toEqual({
    windowUsd: 3, baselineUsdPerWindow: 1, ratio: 3, multiple: 3, anomalous: false,
  });
  expect(assessCostAnomaly({ windowUsd: 3.5, baselineUsd: 168, baselineCoveredMs: week }, settings)).toMatchObject({ ratio: 3.5, anomalous: true });
  // Under the minimum spend nothing is anomalous, however steep the ratio.
  expect(assessCostAnomaly({ windowUsd: 0.5, baselineUsd: 1.68, baselineCoveredMs: week }, settings)).toMatchObject({ ratio: 50, anomalous: false });
  // A shorter history is averaged over what there is: 2 days at 2 USD/h is a baseline of 2 USD/h.
  expect(assessCostAnomaly({ windowUsd: 5, baselineUsd: 96, baselineCoveredMs: 48 * HOUR }, settings)).toMatchObject({ baselineUsdPerWindow: 2, ratio: 2.5, anomalous: false });
  // History, but no spend in it: any spend over the minimum is anomalous (ratio undefined).
  expect(assessCostAnomaly({ windowUsd: 2, baselineUsd: 0, baselineCoveredMs: week }, settings)).toMatchObject({ baselineUsdPerWindow: 0, ratio: null, anomalous: true });
  // Less than one window of history: no baseline, nothing judged.
  expect(assessCostAnomaly({ windowUsd: 500, baselineUsd: 1, baselineCoveredMs: HOUR / 2 }, settings)).toMatchObject({ baselineUsdPerWindow: null, ratio: null, anomalous: false });
  // Nothing spent: never anomalous, even with a zero minimum.
  expect(assessCostAnomaly({ windowUsd: 0, baselineUsd: 0, baselineCoveredMs: week }, { ...settings, COST_ANOMALY_MIN_USD: 0 })).toMatchObject({ anomalous: false });
});
