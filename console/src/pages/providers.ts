/**
 * Providers: health score, status, circuit state, p95 probe latency and the last probes, as cards,
 * each with a chart of its probe latency (p50/p95) and availability, and its calls' success, over
 * the range chosen (GET /stats/health). Above them, the webhook inbox's backlog (console/src/inbox.ts):
 * this is the page operators land on.
 */
import { bucketLabel, chart, colors, rangeOf, rangeQuery, rangeSelect } from '../charts';
import { badge, h, ms, percent, time } from '../dom';
import { inboxIndicator } from '../inbox';
import type { Page } from '../page';

interface Probe {
  ok: boolean;
  status: number | null;
  latencyMs: number;
  error: string | null;
  at: string;
}
interface ProviderHealth {
  provider: string;
  status: string;
  score: number | null;
  lastLatencyMs: number | null;
  since: string | null;
  probedAt: string | null;
  p95Ms: number | null;
  lastProbes: Probe[];
}
interface HealthSeries {
  bucket: 'minute' | 'hour' | 'day';
  buckets: string[];
  providers: Array<{
    provider: string;
    probes: number[];
    availability: Array<number | null>;
    p50Ms: Array<number | null>;
    p95Ms: Array<number | null>;
    calls: number[];
    callSuccess: Array<number | null>;
  }>;
}
interface Circuit {
  provider: string;
  state: string;
  [key: string]: unknown;
}

export const providersPage: Page = {
  title: 'Providers',
  permission: 'monitoring:read',
  topics: ['provider'],
  async render({ api, query, setQuery }) {
    const range = rangeOf(query, '24h');
    // Read beside the page's own reads, never holding them up (GET /health/detailed asks Temporal too).
    const inbox = inboxIndicator(api);
    const [health, circuits, series] = await Promise.all([
      api.get<{ providers: ProviderHealth[] }>('/provider-health'),
      api.get<{ circuits: Circuit[] }>('/circuits'),
      api.get<HealthSeries>(`/stats/health?${rangeQuery(range)}`),
    ]);
    const circuitOf = new Map(circuits.circuits.map((c) => [c.provider, c.state]));
    const seriesOf = new Map(series.providers.map((p) => [p.provider, p]));
    const labels = series.buckets.map((b) => bucketLabel(b, series.bucket));
    const healthChart = (provider: string) => {
      const p = seriesOf.get(provider);
      if (!p) return null;
      return chart({
        name: 'health',
        provider,
        title: `${provider}: latency and availability, last ${range}`,
        type: 'line',
        labels,
        datasets: [
          { label: 'p50 ms', data: p.p50Ms, borderColor: colors.blue, backgroundColor: colors.blue, yAxisID: 'y', pointRadius: 1.5, spanGaps: true },
          { label: 'p95 ms', data: p.p95Ms, borderColor: colors.violet, backgroundColor: colors.violet, yAxisID: 'y', pointRadius: 1.5, spanGaps: true },
          { label: 'probes up', data: p.availability, borderColor: colors.ok, backgroundColor: colors.ok, yAxisID: 'y2', pointRadius: 1.5, borderDash: [4, 3] },
          { label: 'calls ok', data: p.callSuccess, borderColor: colors.warn, backgroundColor: colors.warn, yAxisID: 'y2', pointRadius: 1.5, borderDash: [2, 2] },
        ],
        y: { title: 'ms' },
        y2: { title: 'success', min: 0, max: 1, percent: true },
      });
    };
    const cards = health.providers.map((p) => {
      const healthy = p.status === 'up' ? 'healthy' : p.status === 'unknown' ? 'unknown' : 'unhealthy';
      return h(
        'article',
        { class: `card ${healthy}`, 'data-provider': p.provider, 'data-status': p.status },
        h('h3', {}, p.provider, ' ', badge(p.status)),
        h(
          'dl',
          {},
          h('dt', {}, 'Health score'),
          h('dd', { class: 'score' }, percent(p.score, 0)),
          h('dt', {}, 'Circuit'),
          h('dd', {}, badge(circuitOf.get(p.provider) ?? 'closed')),
          h('dt', {}, 'p95 latency (1 h)'),
          h('dd', {}, ms(p.p95Ms)),
          h('dt', {}, 'Status since'),
          h('dd', {}, time(p.since)),
        ),
        healthChart(p.provider),
        h(
          'ol',
          { class: 'probes', 'aria-label': 'last probes' },
          p.lastProbes.length === 0
            ? h('li', { class: 'empty' }, 'no probes yet')
            : p.lastProbes.map((probe) =>
                h(
                  'li',
                  { class: probe.ok ? 'ok' : 'fail', title: probe.error ?? '' },
                  `${time(probe.at)} · ${probe.status ?? 'no answer'}${probe.error ? ` · ${probe.error}` : ''} · ${probe.latencyMs} ms`,
                ),
              ),
        ),
      );
    });
    return h(
      'section',
      {},
      h('h2', {}, 'Providers'),
      inbox,
      h('div', { class: 'filters' }, rangeSelect(range, ['1h', '24h', '7d'], (r) => setQuery({ range: r }))),
      h('div', { class: 'cards' }, cards),
    );
  },
};
