/** Alerts: firing, acknowledged or resolved, with an Ack button for roles that may acknowledge. */
import { ApiError } from '../api';
import { badge, h, offsetIn, PAGE_SIZE, pager, table, time } from '../dom';
import type { Page } from '../page';

interface Alert {
  id: string;
  rule: string;
  severity: string;
  provider: string | null;
  summary: string;
  state: string;
  escalationLevel: number;
  acknowledgedBy: string | null;
  startedAt: string;
  updatedAt: string;
}

const states = ['open', 'firing', 'acknowledged', 'resolved', ''] as const;

export const alertsPage: Page = {
  title: 'Alerts',
  permission: 'monitoring:read',
  topics: ['alert'],
  async render({ api, may, query, setQuery, refresh, workflowLink, notify, session }) {
    const state = query.get('state') ?? 'open';
    const apiState = state === 'all' ? '' : state;
    const offset = offsetIn(query);
    const { alerts, total } = await api.get<{ alerts: Alert[]; total: number }>(
      `/alerts?limit=${PAGE_SIZE}&offset=${offset}${apiState ? `&state=${encodeURIComponent(apiState)}` : ''}`,
    );
    const ack = async (alert: Alert, button: HTMLButtonElement) => {
      button.disabled = true;
      try {
        await api.post(`/alerts/${encodeURIComponent(alert.id)}/ack`, { by: `console:${session.id}` });
        notify(`Acknowledged ${alert.id}`);
      } catch (err) {
        notify(err instanceof ApiError ? err.reason : String(err), 'error');
        button.disabled = false;
      }
      refresh();
    };
    const rows = alerts.map((a) => {
      const button = h('button', { class: 'ack', 'data-action': 'ack' }, 'Ack');
      button.addEventListener('click', () => void ack(a, button));
      return h(
        'tr',
        { 'data-alert-id': a.id, 'data-state': a.state },
        h('td', {}, badge(a.state)),
        h('td', {}, badge(a.severity)),
        h('td', {}, a.provider ?? '—'),
        h('td', {}, a.summary, h('div', { class: 'sub' }, a.id, ' ', workflowLink(a.id))),
        h('td', {}, String(a.escalationLevel)),
        h('td', {}, a.acknowledgedBy ?? '—'),
        h('td', {}, time(a.startedAt)),
        h('td', {}, a.state === 'firing' && may('alerts:ack') ? button : null),
      );
    });
    const filter = h(
      'select',
      { 'aria-label': 'state', onchange: (e: Event) => setQuery({ state: (e.target as HTMLSelectElement).value || 'all' }) },
      states.map((s) => h('option', { value: s, selected: apiState === s }, s || 'all')),
    );
    const pages = pager(total, offset, alerts.length, PAGE_SIZE, (next) => setQuery({ state, offset: next ? String(next) : '' }));
    return h('section', {}, h('h2', {}, 'Alerts'), h('div', { class: 'filters' }, h('label', {}, 'State ', filter)), pages, table(['state', 'severity', 'provider', 'summary', 'level', 'acknowledged by', 'started', ''], rows, 'no alerts'));
  },
};
