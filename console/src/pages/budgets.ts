/**
 * Budgets: each provider's daily and monthly use against the 70/85/95% alert lines and the refusal
 * line; for each provider that spent this month, a chart of its spend so far (GET /stats/spend, by
 * day) against its monthly budget, the run-rate projection to month end, and the cost anomaly
 * marked when the rule finds one.
 */
import { bucketLabel, chart, colors } from '../charts';
import { h, table, time } from '../dom';
import type { Page } from '../page';

interface PeriodUse {
  usedUsd: number;
  budgetUsd: number;
  percent: number;
}
interface BudgetUse {
  provider: string;
  daily: PeriodUse | null;
  monthly: PeriodUse | null;
  alerts: Array<{ period: string; threshold: number; raisedAt: string }>;
  projection: { spentUsd: number; projectedUsd: number; monthlyBudgetUsd: number | null; projectedPercent: number | null };
  anomaly: { windowUsd: number; baselineUsdPerWindow: number | null; ratio: number | null; anomalous: boolean } | null;
}
interface BudgetAnswer {
  budgets: BudgetUse[];
  thresholds: number[];
  refusalPercent: number;
  projection: { monthStart: string; monthEnd: string; at: string };
}
interface SpendSeries {
  buckets: string[];
  providers: Array<{ provider: string; usd: number[] }>;
}

const DAY_MS = 86_400_000;
/** As the API rounds USD (to the millionth). */
const roundUsd = (usd: number) => Math.round(usd * 1e6) / 1e6;

/**
 * The month's days on the x axis: spend so far summed day by day, the projection as a straight line
 * from today's total to the projected month end, the budget as a flat line, and the anomaly as a
 * marker on today.
 */
function spendChart(use: BudgetUse, daily: number[], firstDay: string, month: BudgetAnswer['projection']): HTMLElement {
  const start = new Date(firstDay).getTime();
  const days = Math.max(1, Math.round((new Date(month.monthEnd).getTime() - new Date(month.monthStart).getTime()) / DAY_MS));
  const labels = Array.from({ length: days }, (_, i) => bucketLabel(new Date(start + i * DAY_MS).toISOString(), 'day'));
  const spent: Array<number | null> = new Array<number | null>(days).fill(null);
  let total = 0;
  daily.slice(0, days).forEach((usd, i) => (spent[i] = total = roundUsd(total + usd)));
  const today = Math.min(daily.length, days) - 1;
  const projection: Array<number | null> = spent.map((_, i) =>
    i < today || today < 0 ? null : roundUsd(total + ((use.projection.projectedUsd - total) * (i - today)) / Math.max(1, days - 1 - today)),
  );
  const datasets: Parameters<typeof chart>[0]['datasets'] = [
    { label: 'spent', data: spent, borderColor: colors.blue, backgroundColor: `${colors.blue}33`, fill: true, pointRadius: 2 },
    { label: 'projection', data: projection, borderColor: colors.violet, backgroundColor: colors.violet, borderDash: [6, 4], pointRadius: 0 },
  ];
  if (use.projection.monthlyBudgetUsd !== null) {
    datasets.push({ label: 'monthly budget', data: spent.map(() => use.projection.monthlyBudgetUsd), borderColor: colors.bad, backgroundColor: colors.bad, pointRadius: 0, borderWidth: 1.5 });
  }
  const anomaly = use.anomaly?.anomalous ? use.anomaly : null;
  if (anomaly) {
    datasets.push({
      label: 'cost anomaly',
      data: spent.map((v, i) => (i === today ? v : null)),
      borderColor: colors.bad,
      backgroundColor: colors.bad,
      pointStyle: 'triangle',
      pointRadius: 8,
      showLine: false,
    });
  }
  const projected = `projected $${use.projection.projectedUsd.toFixed(2)} by month end${use.projection.projectedPercent !== null ? ` (${use.projection.projectedPercent.toFixed(1)}% of the budget)` : ''}`;
  const anomalyText = anomaly
    ? ` Cost anomaly: $${anomaly.windowUsd.toFixed(2)} in the last window${anomaly.ratio !== null ? `, ${anomaly.ratio.toFixed(1)}× the baseline` : ''}.`
    : '';
  return chart({
    name: 'spend',
    provider: use.provider,
    title: `${use.provider}: spend this month`,
    type: 'line',
    labels,
    datasets,
    y: { title: 'USD' },
    note: `$${use.projection.spentUsd.toFixed(2)} spent, ${projected}.${anomalyText}`,
  });
}

function bar(use: PeriodUse | null, thresholds: number[], refusal: number): HTMLElement {
  if (!use) return h('span', { class: 'sub' }, 'no budget');
  const level = thresholds.filter((t) => use.percent >= t).length;
  const width = Math.min(use.percent, 100);
  return h(
    'div',
    { class: 'budget', title: `$${use.usedUsd.toFixed(2)} of $${use.budgetUsd.toFixed(2)}` },
    h('div', { class: `fill level-${level}`, style: `width:${width}%` }),
    thresholds.map((t) => h('div', { class: 'line', style: `left:${t}%`, title: `${t}% alert` })),
    h('div', { class: 'line refusal', style: `left:${refusal}%`, title: `${refusal}%: non-critical calls refused` }),
    h('span', { class: 'label' }, `${use.percent.toFixed(1)}% · $${use.usedUsd.toFixed(2)} / $${use.budgetUsd.toFixed(2)}`),
  );
}

export const budgetsPage: Page = {
  title: 'Budgets',
  permission: 'monitoring:read',
  topics: ['budget'],
  async render({ api }) {
    const { budgets, thresholds, refusalPercent, projection } = await api.get<BudgetAnswer>('/budgets');
    const spendQuery = new URLSearchParams({ from: projection.monthStart, to: projection.at, bucket: 'day' });
    // The first moment of a month has no range to chart yet.
    const spend = projection.at > projection.monthStart ? await api.get<SpendSeries>(`/stats/spend?${spendQuery.toString()}`) : { buckets: [], providers: [] };
    const dailyOf = new Map(spend.providers.map((p) => [p.provider, p.usd]));
    const charted = budgets.filter((b) => dailyOf.has(b.provider) || b.projection.spentUsd > 0 || b.anomaly?.anomalous);
    const charts = charted.map((b) => spendChart(b, dailyOf.get(b.provider) ?? spend.buckets.map(() => 0), spend.buckets[0] ?? projection.monthStart, projection));
    const rows = budgets.map((b) =>
      h(
        'tr',
        { 'data-provider': b.provider },
        h('td', {}, b.provider),
        h('td', {}, bar(b.daily, thresholds, refusalPercent)),
        h('td', {}, bar(b.monthly, thresholds, refusalPercent)),
        h('td', {}, b.alerts.length === 0 ? '—' : b.alerts.map((a) => h('div', {}, `${a.period} ${a.threshold}% · ${time(a.raisedAt)}`))),
      ),
    );
    return h(
      'section',
      {},
      h('h2', {}, 'Budgets'),
      h('p', { class: 'sub' }, `Lines at ${thresholds.join(' / ')}% raise budget alerts; past ${refusalPercent}% non-critical calls are refused.`),
      table(['provider', 'today', 'this month', 'alerts this month'], rows, 'no providers'),
      h('h3', {}, 'Spend this month'),
      charts.length > 0 ? h('div', { class: 'charts' }, charts) : h('p', { class: 'sub', 'data-testid': 'no-spend' }, 'No spend this month yet.'),
    );
  },
};
