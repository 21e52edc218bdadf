/** Provider calls: a filtered list (provider, status, time) and a detail view with candidates and attempts. */
import { badge, h, offsetIn, PAGE_SIZE, table, time } from '../dom';
import { apiQuery, filteredPager, filterForm, type Field } from '../filters';
import type { Page, PageContext } from '../page';

interface CallRow {
  workflowId: string;
  provider: string;
  executionStatus: string;
  startTime: string;
  closeTime: string | null;
}
interface Candidate {
  provider: string;
  state: string;
  attempts: number;
  lastError: string | null;
  skippedBecause?: string;
}
interface CallView {
  workflowId: string;
  executionStatus: string;
  startTime: string;
  closeTime: string | null;
  status: string | null;
  provider?: string;
  operation?: string;
  servedBy?: string | null;
  failedOver?: boolean;
  candidates?: Candidate[];
  error?: string | null;
  errorType?: string | null;
  result?: unknown;
}

const fields: Field[] = [
  { name: 'provider', label: 'Provider' },
  { name: 'status', label: 'Status', options: ['running', 'completed', 'failed', 'terminated', 'timed_out', 'canceled'] },
  { name: 'from', label: 'From', kind: 'time' },
  { name: 'to', label: 'To', kind: 'time' },
];

async function detail(ctx: PageContext, workflowId: string): Promise<HTMLElement> {
  const view = await ctx.api.get<CallView>(`/calls/${encodeURIComponent(workflowId)}`);
  const candidates = (view.candidates ?? []).map((c) =>
    h('tr', {}, h('td', {}, c.provider), h('td', {}, badge(c.state)), h('td', {}, String(c.attempts)), h('td', {}, c.lastError ?? c.skippedBecause ?? '—')),
  );
  return h(
    'section',
    { class: 'detail' },
    h('p', {}, h('a', { href: '#/calls' }, '← calls')),
    h('h2', {}, workflowId),
    h('p', {}, badge(view.status ?? view.executionStatus.toLowerCase()), ' ', ctx.workflowLink(workflowId)),
    h(
      'dl',
      {},
      h('dt', {}, 'Operation'),
      h('dd', {}, `${view.provider ?? '—'} ${view.operation ?? ''}`),
      h('dt', {}, 'Served by'),
      h('dd', {}, `${view.servedBy ?? '—'}${view.failedOver ? ' (failed over)' : ''}`),
      h('dt', {}, 'Workflow'),
      h('dd', {}, `${view.executionStatus} · started ${time(view.startTime)} · closed ${time(view.closeTime)}`),
      h('dt', {}, 'Error'),
      h('dd', {}, view.error ? `${view.errorType ?? 'error'}: ${view.error}` : '—'),
    ),
    h('h3', {}, 'Candidates (attempts)'),
    table(['provider', 'state', 'attempts', 'last error'], candidates, 'no status yet (no worker answered)'),
  );
}

export const callsPage: Page = {
  title: 'Provider calls',
  permission: 'work:read',
  topics: [],
  async render(ctx) {
    const [workflowId] = ctx.params;
    if (workflowId) return detail(ctx, workflowId);
    const offset = offsetIn(ctx.query);
    const { calls, total } = await ctx.api.get<{ calls: CallRow[]; total: number }>(`/calls?${apiQuery(ctx, fields, { limit: String(PAGE_SIZE), offset: String(offset) })}`);
    const rows = calls.map((c) =>
      h(
        'tr',
        { 'data-workflow-id': c.workflowId },
        h('td', {}, h('a', { href: `#/calls/${encodeURIComponent(c.workflowId)}` }, c.workflowId)),
        h('td', {}, c.provider),
        h('td', {}, badge(c.executionStatus.toLowerCase())),
        h('td', {}, time(c.startTime)),
        h('td', {}, time(c.closeTime)),
      ),
    );
    const open = h('input', { name: 'workflowId', placeholder: 'call:tenant:provider:key', 'aria-label': 'workflow id' });
    const go = h('form', { class: 'filters' }, h('label', {}, 'Open a call by id ', open), h('button', { type: 'submit' }, 'Open'));
    go.addEventListener('submit', (event) => {
      event.preventDefault();
      if (open.value.trim()) location.hash = `#/calls/${encodeURIComponent(open.value.trim())}`;
    });
    const pages = filteredPager(ctx, fields, total, offset, calls.length);
    return h('section', {}, h('h2', {}, 'Provider calls'), filterForm(ctx, fields), go, pages, table(['workflow', 'provider', 'status', 'started', 'closed'], rows, 'no calls'));
  },
};
