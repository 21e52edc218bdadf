/** SLA compliance: the hourly and daily reports per provider against the registry's targets. */
import { badge, h, ms, percent, table, time } from '../dom';
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
}

export const slaPage: Page = {
  title: 'SLA',
  permission: 'monitoring:read',
  topics: ['sla'],
  async render({ api, query, setQuery }) {
    const window = query.get('window') ?? 'hourly';
    const { reports, summary } = await api.get<{ reports: Report[]; summary: { reports: number; compliant: number; complianceRatio: number | null } }>(
      `/sla?limit=200&window=${encodeURIComponent(window)}`,
    );
    const rows = reports.map((r) =>
      h(
        'tr',
        { 'data-provider': r.provider },
        h('td', {}, r.provider),
        h('td', {}, time(r.periodEnd)),
        h('td', {}, percent(r.availability, 2), r.target?.availability !== undefined ? h('span', { class: 'sub' }, ` / ${percent(r.target.availability, 2)}`) : null),
        h('td', {}, ms(r.p95Ms), r.target?.p95Ms !== undefined ? h('span', { class: 'sub' }, ` / ${ms(r.target.p95Ms)}`) : null),
        h('td', {}, percent(r.errorRate, 2), r.target?.errorRate !== undefined ? h('span', { class: 'sub' }, ` / ${percent(r.target.errorRate, 2)}`) : null),
        h('td', {}, `${r.probes} / ${r.calls}`),
        h('td', {}, badge(r.compliant ? 'compliant' : 'violated'), r.violations.length > 0 ? h('div', { class: 'sub' }, r.violations.join('; ')) : null),
      ),
    );
    const select = h(
      'select',
      { 'aria-label': 'window', onchange: (e: Event) => setQuery({ window: (e.target as HTMLSelectElement).value }) },
      ['hourly', 'daily'].map((w) => h('option', { value: w, selected: w === window }, w)),
    );
    return h(
      'section',
      {},
      h('h2', {}, 'SLA compliance'),
      h('div', { class: 'filters' }, h('label', {}, 'Window ', select)),
      h('p', { class: 'summary', 'data-testid': 'sla-summary' }, `${summary.compliant} of ${summary.reports} reports compliant (${percent(summary.complianceRatio)})`),
      table(['provider', 'period end', 'availability / target', 'p95 / target', 'error rate / target', 'probes / calls', 'compliance'], rows, 'no SLA reports yet'),
    );
  },
};
