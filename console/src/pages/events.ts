/** Webhook events: a filtered list (provider, type, status, time) and a detail view with steps and deliveries. */
import { ApiError } from '../api';
import { badge, h, offsetIn, PAGE_SIZE, table, time } from '../dom';
import { apiQuery, filteredPager, filterForm, type Field } from '../filters';
import type { Page, PageContext } from '../page';

interface EventRow {
  workflowId: string;
  provider: string;
  eventId: string;
  eventType: string;
  status: string;
  lastError: string | null;
  receivedAt: string;
  completedAt: string | null;
}
interface Step {
  state: string;
  attempts: number;
  lastError: string | null;
}
interface Delivery {
  id: string;
  subscriberId: string;
  status: string;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
}
interface EventView {
  workflowId: string;
  executionStatus: string;
  startTime: string;
  closeTime: string | null;
  status: string | null;
  handler?: string | null;
  steps?: Record<string, Step>;
  lastError?: string | null;
  ledger: (EventRow & { payloadSummary: { fields: string[]; bytes: number } }) | null;
  deliveries: Delivery[];
}

/** Rows per page (GET /webhooks/events answers the total). */

const fields: Field[] = [
  { name: 'provider', label: 'Provider' },
  { name: 'type', label: 'Type' },
  { name: 'status', label: 'Status', options: ['received', 'processing', 'completed', 'failed'] },
  { name: 'from', label: 'From', kind: 'time' },
  { name: 'to', label: 'To', kind: 'time' },
];

async function detail(ctx: PageContext, workflowId: string): Promise<HTMLElement> {
  const view = await ctx.api.get<EventView>(`/webhooks/events/${encodeURIComponent(workflowId)}`);
  const retry = h('button', { 'data-action': 'retry' }, 'Retry');
  retry.addEventListener('click', () => {
    retry.disabled = true;
    ctx.api.post(`/webhooks/events/${encodeURIComponent(workflowId)}/retry`).then(
      () => ctx.notify('Started again'),
      (err: unknown) => ctx.notify(err instanceof ApiError ? err.reason : String(err), 'error'),
    ).finally(() => ctx.refresh());
  });
  const steps = Object.entries(view.steps ?? {}).map(([name, s]) => h('tr', {}, h('td', {}, name), h('td', {}, badge(s.state)), h('td', {}, String(s.attempts)), h('td', {}, s.lastError ?? '—')));
  const deliveries = view.deliveries.map((d) =>
    h('tr', { 'data-delivery-id': d.id }, h('td', {}, d.id), h('td', {}, badge(d.status)), h('td', {}, String(d.attempts)), h('td', {}, d.lastStatus ?? '—'), h('td', {}, d.lastError ?? '—')),
  );
  return h(
    'section',
    { class: 'detail' },
    h('p', {}, h('a', { href: '#/events' }, '← events')),
    h('h2', {}, workflowId),
    h('p', {}, badge(view.ledger?.status ?? view.status ?? view.executionStatus.toLowerCase()), ' ', ctx.workflowLink(workflowId), ' ', view.ledger?.status === 'failed' && ctx.may('events:replay') ? retry : null),
    h(
      'dl',
      {},
      h('dt', {}, 'Workflow'),
      h('dd', {}, `${view.executionStatus} · started ${time(view.startTime)} · closed ${time(view.closeTime)}`),
      h('dt', {}, 'Provider / type'),
      h('dd', {}, `${view.ledger?.provider ?? '—'} / ${view.ledger?.eventType ?? '—'}`),
      h('dt', {}, 'Handler'),
      h('dd', {}, view.handler ?? '—'),
      h('dt', {}, 'Payload'),
      h('dd', {}, view.ledger ? `${view.ledger.payloadSummary.bytes} bytes; fields ${view.ledger.payloadSummary.fields.join(', ')}` : '—'),
      h('dt', {}, 'Last error'),
      h('dd', {}, view.lastError ?? view.ledger?.lastError ?? '—'),
    ),
    h('h3', {}, 'Steps (attempts)'),
    table(['step', 'state', 'attempts', 'last error'], steps, 'no step status (no worker answered)'),
    h('h3', {}, 'Deliveries'),
    table(['delivery', 'status', 'attempts', 'last HTTP status', 'last error'], deliveries, 'no deliveries'),
  );
}

export const eventsPage: Page = {
  title: 'Webhook events',
  permission: 'events:read',
  topics: ['webhook', 'delivery'],
  async render(ctx) {
    const [workflowId] = ctx.params;
    if (workflowId) return detail(ctx, workflowId);
    const offset = offsetIn(ctx.query);
    const { events, total } = await ctx.api.get<{ events: EventRow[]; total: number }>(
      `/webhooks/events?${apiQuery(ctx, fields, { limit: String(PAGE_SIZE), offset: String(offset) })}`,
    );
    const rows = events.map((e) =>
      h(
        'tr',
        { 'data-workflow-id': e.workflowId },
        h('td', {}, h('a', { href: `#/events/${encodeURIComponent(e.workflowId)}` }, e.eventId)),
        h('td', {}, e.provider),
        h('td', {}, e.eventType),
        h('td', {}, badge(e.status)),
        h('td', {}, time(e.receivedAt)),
        h('td', {}, e.lastError ?? ''),
      ),
    );
    const pages = filteredPager(ctx, fields, total, offset, events.length);
    return h(
      'section',
      {},
      h('h2', {}, 'Webhook events'),
      filterForm(ctx, fields),
      pages,
      table(['event', 'provider', 'type', 'status', 'received', 'last error'], rows, 'no events'),
    );
  },
};
