/**
 * The screenshot tour (scripts/screenshot-tour.ts, not run in CI) draws the Grafana dashboard from
 * its JSON: every panel and every query must reach the drawing, and the Prometheus it starts must
 * scrape under ops/prometheus.yml's job names, which the recording rules and alerts select on.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../lib/config/paths';
import { dashboardFile, dashboardPanels, seriesName } from '../../scripts/tour/dashboard';
import { scrapeConfig } from '../../scripts/tour/prometheus';

interface RawPanel {
  id: number;
  type: string;
  title: string;
  targets?: Array<{ expr?: string }>;
}

test('every panel of the dashboard, with each of its queries, is drawn', () => {
  const raw = (JSON.parse(readFileSync(dashboardFile, 'utf8')) as { panels: RawPanel[] }).panels;
  const drawn = dashboardPanels();
  expect(drawn.map((p) => [p.id, p.type, p.title])).toEqual(raw.map((p) => [p.id, p.type, p.title]));
  for (const [i, panel] of raw.entries()) {
    expect({ title: panel.title, queries: drawn[i]!.queries.map((q) => q.expr) }).toEqual({ title: panel.title, queries: (panel.targets ?? []).map((t) => t.expr) });
  }
  // Only panel types the page knows how to draw.
  expect(new Set(drawn.map((p) => p.type))).toEqual(new Set(['row', 'stat', 'bargauge', 'timeseries', 'logs']));
});

test("series are named by the panel's legend format, as Grafana names them", () => {
  expect(seriesName({ provider: 'stripe', window: 'hourly' }, '{{provider}} {{window}}')).toBe('stripe hourly');
  expect(seriesName({ __name__: 'integration_up', provider: 'twilio' })).toBe('{provider="twilio"}');
  expect(seriesName({}, undefined)).toBe('value');
});

test("the tour's Prometheus scrapes under the job names of ops/prometheus.yml", () => {
  const jobsOf = (yaml: string) => [...yaml.matchAll(/job_name:\s*(\S+)/g)].map((m) => m[1]).sort();
  const ops = readFileSync(path.join(projectRoot, 'ops', 'prometheus.yml'), 'utf8');
  const generated = scrapeConfig({ 'switchyard-api': '127.0.0.1:1', 'switchyard-worker': '127.0.0.1:2', 'temporal-sdk': '127.0.0.1:3', 'temporal-server': '127.0.0.1:4' });
  expect(jobsOf(generated)).toEqual(jobsOf(ops));
  expect(generated).toContain(path.join(projectRoot, 'ops', 'alert-rules.yml'));
});
