/** Budgets: each provider's daily and monthly use against the 70/85/95% alert lines and the refusal line. */
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
    const { budgets, thresholds, refusalPercent } = await api.get<{ budgets: BudgetUse[]; thresholds: number[]; refusalPercent: number }>('/budgets');
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
    );
  },
};
