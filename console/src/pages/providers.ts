/** Providers: health score, status, circuit state, p95 probe latency and the last probes, as cards. */
import { badge, h, ms, percent, time } from '../dom';
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
interface Circuit {
  provider: string;
  state: string;
  [key: string]: unknown;
}

export const providersPage: Page = {
  title: 'Providers',
  permission: 'monitoring:read',
  topics: ['provider'],
  async render({ api }) {
    const [health, circuits] = await Promise.all([
      api.get<{ providers: ProviderHealth[] }>('/provider-health'),
      api.get<{ circuits: Circuit[] }>('/circuits'),
    ]);
    const circuitOf = new Map(circuits.circuits.map((c) => [c.provider, c.state]));
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
    return h('section', {}, h('h2', {}, 'Providers'), h('div', { class: 'cards' }, cards));
  },
};
