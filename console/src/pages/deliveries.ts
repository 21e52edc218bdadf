/** Subscriber deliveries (dead-lettered first) with Replay for roles that may replay. */
import { ApiError } from '../api';
import { badge, h, table, time } from '../dom';
import type { Page } from '../page';

interface Delivery {
  id: string;
  subscriberId: string;
  provider: string;
  eventId: string;
  eventType: string;
  status: string;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

export const deliveriesPage: Page = {
  title: 'Deliveries',
  permission: 'events:read',
  topics: ['delivery'],
  async render({ api, may, query, setQuery, notify, refresh, session }) {
    const status = query.get('status') ?? 'dead_lettered';
    const apiStatus = status === 'all' ? '' : status;
    const { deliveries } = await api.get<{ deliveries: Delivery[] }>(`/deliveries${apiStatus ? `?status=${apiStatus}` : ''}`);
    const replay = async (d: Delivery, button: HTMLButtonElement) => {
      button.disabled = true;
      try {
        await api.post(`/deliveries/${encodeURIComponent(d.id)}/replay`);
        notify(`Replaying ${d.id}`);
        // The outcome arrives on the stream (topic "delivery"); show every status meanwhile.
        setQuery({ status: 'all' });
      } catch (err) {
        notify(err instanceof ApiError ? err.reason : String(err), 'error');
        refresh();
      }
    };
    const rows = deliveries.map((d) => {
      const button = h('button', { 'data-action': 'replay' }, 'Replay');
      button.addEventListener('click', () => void replay(d, button));
      return h(
        'tr',
        { 'data-delivery-id': d.id, 'data-status': d.status },
        h('td', {}, d.id),
        h('td', {}, h('a', { href: `#/events/${encodeURIComponent(`webhook:${session.tenant}:${d.provider}:${d.eventId}`)}` }, d.eventId), h('div', { class: 'sub' }, `${d.provider} · ${d.eventType}`)),
        h('td', {}, badge(d.status)),
        h('td', {}, String(d.attempts)),
        h('td', {}, d.lastStatus ?? '—'),
        h('td', {}, d.lastError ?? '—'),
        h('td', {}, time(d.deliveredAt ?? d.createdAt)),
        h('td', {}, d.status !== 'delivered' && d.status !== 'pending' && may('events:replay') ? button : null),
      );
    });
    const select = h(
      'select',
      { 'aria-label': 'status', onchange: (e: Event) => setQuery({ status: (e.target as HTMLSelectElement).value }) },
      ['dead_lettered', 'pending', 'delivered', 'skipped', 'all'].map((s) => h('option', { value: s, selected: s === status }, s)),
    );
    return h('section', {}, h('h2', {}, 'Deliveries'), h('div', { class: 'filters' }, h('label', {}, 'Status ', select)), table(['delivery', 'event', 'status', 'attempts', 'last HTTP status', 'last error', 'at'], rows, 'no deliveries'));
  },
};
