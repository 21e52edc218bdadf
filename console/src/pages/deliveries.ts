/**
 * Subscriber deliveries. Opens on the problem states (retrying, pending and dead-lettered), with a
 * count per state that filters the list, each retrying delivery's next attempt time, pages of
 * PAGE_SIZE, and Replay for roles that may replay.
 */
import { ApiError } from '../api';
import { badge, h, offsetIn, PAGE_SIZE, pager, table, time } from '../dom';
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
  /** Retrying ones: when the next attempt is due (null when the workflow did not answer). */
  nextAttemptAt?: string | null;
}
type State = 'pending' | 'retrying' | 'delivered' | 'dead_lettered' | 'skipped';
interface DeliveryList {
  deliveries: Delivery[];
  total: number;
  counts: Record<State, number>;
}

/** The filters offered, `problem` first (the page opens on it). */
const filters = ['problem', 'pending', 'dead_lettered', 'delivered', 'skipped', 'all'] as const;
const shownStates: State[] = ['retrying', 'pending', 'dead_lettered', 'delivered', 'skipped'];
/** A count's filter: retrying deliveries are pending ones with attempts made. */
const filterOf: Record<State, string> = { retrying: 'pending', pending: 'pending', dead_lettered: 'dead_lettered', delivered: 'delivered', skipped: 'skipped' };

/** `retrying` for a pending delivery that has failed at least once. */
function stateOf(d: Delivery): string {
  return d.status === 'pending' && d.attempts > 0 ? 'retrying' : d.status;
}

export const deliveriesPage: Page = {
  title: 'Deliveries',
  permission: 'events:read',
  topics: ['delivery'],
  async render({ api, may, query, setQuery, notify, refresh, session }) {
    const status = query.get('status') ?? 'problem';
    const offset = offsetIn(query);
    const apiQuery = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(offset) });
    if (status !== 'all') apiQuery.set('status', status);
    const { deliveries, total, counts } = await api.get<DeliveryList>(`/deliveries?${apiQuery.toString()}`);
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
      const state = stateOf(d);
      return h(
        'tr',
        { 'data-delivery-id': d.id, 'data-status': d.status, 'data-state': state },
        h('td', {}, d.id),
        h('td', {}, h('a', { href: `#/events/${encodeURIComponent(`webhook:${session.tenant}:${d.provider}:${d.eventId}`)}` }, d.eventId), h('div', { class: 'sub' }, `${d.provider} · ${d.eventType}`)),
        h('td', {}, badge(state)),
        h('td', {}, String(d.attempts)),
        h('td', { 'data-testid': 'next-attempt' }, state === 'retrying' ? (d.nextAttemptAt ? time(d.nextAttemptAt) : 'unknown (no worker answered)') : '—'),
        h('td', {}, d.lastStatus ?? '—'),
        h('td', {}, d.lastError ?? '—'),
        h('td', {}, time(d.deliveredAt ?? d.createdAt)),
        h('td', {}, d.status !== 'delivered' && d.status !== 'pending' && may('events:replay') ? button : null),
      );
    });
    const select = h(
      'select',
      { 'aria-label': 'status', onchange: (e: Event) => setQuery({ status: (e.target as HTMLSelectElement).value }) },
      filters.map((s) => h('option', { value: s, selected: s === status }, s === 'problem' ? 'problems (retrying, pending, dead-lettered)' : s)),
    );
    const countLinks = h(
      'ul',
      { class: 'counts', 'aria-label': 'deliveries per state' },
      shownStates.map((s) =>
        h(
          'li',
          { 'data-count': s, class: counts[s] > 0 && (s === 'retrying' || s === 'dead_lettered') ? 'attention' : '' },
          h('a', { href: `#/deliveries?status=${filterOf[s]}` }, badge(s), ' ', h('strong', {}, String(counts[s]))),
        ),
      ),
    );
    return h(
      'section',
      {},
      h('h2', {}, 'Deliveries'),
      countLinks,
      h('div', { class: 'filters' }, h('label', {}, 'Status ', select)),
      pager(total, offset, deliveries.length, PAGE_SIZE, (next) => setQuery({ status, offset: next ? String(next) : '' })),
      table(['delivery', 'event', 'state', 'attempts', 'next attempt', 'last HTTP status', 'last error', 'at'], rows, status === 'problem' ? 'no delivery needs attention' : 'no deliveries'),
    );
  },
};
