/**
 * SLA compliance: the hourly and daily reports per provider against the registry's targets, 50 a
 * page with the total, and a chart of compliance over the page's periods (the share of each
 * period's reports with data that were compliant).
 */
import { bucketLabel, chart, colors } from '../charts';
import { badge, h, ms, offsetIn, PAGE_SIZE, pager, percent, table, time } from '../dom';
import type { Page } from '../page';

interface Report {
  provider: string;
  window: string;
  periodEnd: string;
  probes: number;
  calls: number;
  availability: number | null;
  p95Ms: number | null;
  errorRate: number | null;
  target: { availability?: number; p95Ms?: number; errorRate?: number } | null;
  violations: string[];
  compliant: boolean;
  /** No probes and no calls in the window: nothing was judged. */
  noData: boolean;
}
interface Summary {
  reports: number;
  noData: number;
  compliant: number;
  complianceRatio: number | null;
}

/** "3 of 4 reports compliant (75.0%)", or "no data" when no report had any probe or call. */
function summaryText(summary: Summary): string {
  const judged = summary.reports - summary.noData;
  if (summary.reports === 0) return 'no SLA reports yet';
  if (judged === 0) return `no data: none of the ${summary.reports} reports had a probe or a call`;
  const withoutData = summary.noData > 0 ? `; ${summary.noData} without data` : '';
  return `${summary.compliant} of ${judged} reports compliant (${percent(summary.complianceRatio)})${withoutData}`;
}

/** Per period end, oldest first: how many reports had data and how many of those were compliant. */
export function complianceOverTime(reports: Report[]): Array<{ periodEnd: string; judged: number; compliant: number }> {
  const byEnd = new Map<string, { judged: number; compliant: number }>();
  for (const r of reports) {
    const period = byEnd.get(r.periodEnd) ?? { judged: 0, compliant: 0 };
    if (!r.noData) {
      period.judged += 1;
      if (r.compliant) period.compliant += 1;
    }
    byEnd.set(r.periodEnd, period);
  }
  return [...byEnd.entries()].sort(([a], [b]) => Date.parse(a) - Date.parse(b)).map(([periodEnd, v]) => ({ periodEnd, ...v }));
}

function complianceChart(reports: Report[], window: string): HTMLElement | null {
  const periods = complianceOverTime(reports);
  if (periods.length === 0) return null;
  const ratio = periods.map((p) => (p.judged === 0 ? null : p.compliant / p.judged));
  return chart({
    name: 'compliance',
    title: `Compliance over time (${window} reports)`,
    type: 'bar',
    stacked: true,
    labels: periods.map((p) => bucketLabel(p.periodEnd, window === 'daily' ? 'day' : 'hour')),
    datasets: [
      { label: 'compliant share', data: ratio, backgroundColor: colors.ok },
      { label: 'violated share', data: ratio.map((r) => (r === null ? null : 1 - r)), backgroundColor: colors.bad },
    ],
    y: { title: 'reports', min: 0, max: 1, percent: true },
    note: 'Each bar: that period\'s reports with probes or calls, the share that met their targets (green) and that violated them (red); a period without data has no bar.',
  });
}

export const slaPage: Page = {
  title: 'SLA',
  permission: 'monitoring:read',
  topics: ['sla'],
  async render({ api, query, setQuery }) {
    const window = query.get('window') ?? 'hourly';
    const provider = query.get('provider') ?? '';
    const offset = offsetIn(query);
    const { reports, summary, total } = await api.get<{ reports: Report[]; summary: Summary; total: number }>(
      `/sla?limit=${PAGE_SIZE}&offset=${offset}&window=${encodeURIComponent(window)}${provider ? `&provider=${encodeURIComponent(provider)}` : ''}`,
    );
    const rows = reports.map((r) =>
      h(
        'tr',
        { 'data-provider': r.provider, 'data-compliance': r.noData ? 'no_data' : r.compliant ? 'compliant' : 'violated' },
        h('td', {}, r.provider),
        h('td', {}, time(r.periodEnd)),
        h('td', {}, percent(r.availability, 2), r.target?.availability !== undefined ? h('span', { class: 'sub' }, ` / ${percent(r.target.availability, 2)}`) : null),
        h('td', {}, ms(r.p95Ms), r.target?.p95Ms !== undefined ? h('span', { class: 'sub' }, ` / ${ms(r.target.p95Ms)}`) : null),
        h('td', {}, percent(r.errorRate, 2), r.target?.errorRate !== undefined ? h('span', { class: 'sub' }, ` / ${percent(r.target.errorRate, 2)}`) : null),
        h('td', {}, `${r.probes} / ${r.calls}`),
        h('td', {}, badge(r.noData ? 'no data' : r.compliant ? 'compliant' : 'violated'), r.violations.length > 0 ? h('div', { class: 'sub' }, r.violations.join('; ')) : null),
      ),
    );
    const select = h(
      'select',
      { 'aria-label': 'window', onchange: (e: Event) => setQuery({ window: (e.target as HTMLSelectElement).value, provider }) },
      ['hourly', 'daily'].map((w) => h('option', { value: w, selected: w === window }, w)),
    );
    return h(
      'section',
      {},
      h('h2', {}, 'SLA compliance'),
      h(
        'div',
        { class: 'filters' },
        h('label', {}, 'Window ', select),
        h('label', {}, 'Provider ', h('input', { name: 'provider', value: provider, placeholder: 'any', onchange: (e: Event) => setQuery({ window, provider: (e.target as HTMLInputElement).value.trim() }) })),
      ),
      h('p', { class: 'summary', 'data-testid': 'sla-summary' }, summaryText(summary)),
      complianceChart(reports, window),
      pager(total, offset, reports.length, PAGE_SIZE, (next) => setQuery({ window, provider, offset: next ? String(next) : '' })),
      table(['provider', 'period end', 'availability / target', 'p95 / target', 'error rate / target', 'probes / calls', 'compliance'], rows, 'no SLA reports yet'),
    );
  },
};
