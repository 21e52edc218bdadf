/**
 * Volume: webhooks (this tenant's, by arrival) and provider calls (every tenant's) per minute or
 * hour, succeeded and failed, as stacked bars over the range chosen (GET /stats/volume).
 */
import { bucketLabel, chart, colors, rangeOf, rangeQuery, rangeSelect } from '../charts';
import { h } from '../dom';
import type { Page } from '../page';

interface VolumeSeries {
  bucket: 'minute' | 'hour' | 'day';
  buckets: string[];
  webhooks: { tenant: string; received: number[]; completed: number[]; failed: number[] };
  calls: { succeeded: number[]; failed: number[] };
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

export const volumePage: Page = {
  title: 'Volume',
  permission: 'monitoring:read',
  topics: ['webhook'],
  async render({ api, query, setQuery }) {
    const range = rangeOf(query, '1h');
    const v = await api.get<VolumeSeries>(`/stats/volume?${rangeQuery(range)}`);
    const labels = v.buckets.map((b) => bucketLabel(b, v.bucket));
    const per = v.bucket === 'minute' ? 'minute' : 'hour';
    const inFlight = v.webhooks.received.map((n, i) => n - (v.webhooks.completed[i] ?? 0) - (v.webhooks.failed[i] ?? 0));
    const webhooks = chart({
      name: 'webhooks',
      title: `Webhooks per ${per} (tenant ${v.webhooks.tenant})`,
      type: 'bar',
      stacked: true,
      labels,
      datasets: [
        { label: 'completed', data: v.webhooks.completed, backgroundColor: colors.ok },
        { label: 'failed', data: v.webhooks.failed, backgroundColor: colors.bad },
        { label: 'in flight', data: inFlight, backgroundColor: colors.grey },
      ],
      y: { title: `webhooks per ${per}` },
      note: `${sum(v.webhooks.received)} received: ${sum(v.webhooks.completed)} completed, ${sum(v.webhooks.failed)} failed, ${sum(inFlight)} in flight.`,
    });
    const calls = chart({
      name: 'calls',
      title: `Provider calls per ${per} (all tenants)`,
      type: 'bar',
      stacked: true,
      labels,
      datasets: [
        { label: 'succeeded', data: v.calls.succeeded, backgroundColor: colors.ok },
        { label: 'failed', data: v.calls.failed, backgroundColor: colors.bad },
      ],
      y: { title: `calls per ${per}` },
      note: `${sum(v.calls.succeeded) + sum(v.calls.failed)} calls: ${sum(v.calls.succeeded)} succeeded, ${sum(v.calls.failed)} failed (health probes not counted).`,
    });
    return h(
      'section',
      {},
      h('h2', {}, 'Volume'),
      h('div', { class: 'filters' }, rangeSelect(range, ['1h', '6h', '24h', '7d'], (r) => setQuery({ range: r }))),
      h('div', { class: 'charts' }, webhooks, calls),
    );
  },
};
