/**
 * Charts for what a person would rather look at than read, drawn with Chart.js (only the pieces
 * used are registered, so the bundle carries no more). No animation: a chart shows the API's
 * answer at once, and a re-render after a stream event does not replay a transition.
 *
 * Each chart's canvas carries `data-drawn`: the labels and datasets the chart holds after its
 * last update (written by a plugin from the chart itself), so a browser test can check that it
 * draws the numbers the API returned. Charts whose canvas left the page are destroyed after each
 * render (`sweepCharts`).
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
  type ChartDataset,
  type Plugin,
} from 'chart.js';
import { h } from './dom';

const drawnData: Plugin = {
  id: 'drawnData',
  afterUpdate(chart) {
    chart.canvas.dataset.drawn = JSON.stringify({
      labels: chart.data.labels,
      datasets: chart.data.datasets.map((d) => ({ label: d.label, data: d.data })),
    });
  },
};

Chart.register(BarController, BarElement, CategoryScale, Filler, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip, drawnData);

export const colors = {
  ok: '#1f8f4e',
  bad: '#b3261e',
  warn: '#d9a400',
  blue: '#3a63d8',
  violet: '#7a4fd0',
  grey: '#8a93a6',
};

export type Dataset = ChartDataset<'line' | 'bar', Array<number | null>>;

export interface ChartSpec {
  /** `data-chart` of the box: what the chart shows (tests find it by this). */
  name: string;
  /** What the chart is of, as `data-provider` of the box (one chart per provider). */
  provider?: string;
  /** Said by screen readers, and the chart's heading. */
  title: string;
  type: 'line' | 'bar';
  labels: string[];
  datasets: Dataset[];
  /** Bars on top of each other (counts that add up). */
  stacked?: boolean;
  /** Axis titles; `y2` adds a right-hand axis for datasets with `yAxisID: 'y2'`. */
  y?: { title: string; min?: number; max?: number; percent?: boolean };
  y2?: { title: string; min?: number; max?: number; percent?: boolean };
  /** Extra text under the chart (a projection, an anomaly). */
  note?: Node | string | null;
}

function axis(spec: NonNullable<ChartSpec['y']>, position: 'left' | 'right', stacked: boolean) {
  return {
    type: 'linear' as const,
    position,
    stacked,
    min: spec.min,
    max: spec.max,
    beginAtZero: true,
    title: { display: true, text: spec.title },
    grid: { drawOnChartArea: position === 'left' },
    ticks: spec.percent ? { callback: (value: string | number) => `${Math.round(Number(value) * 100)}%` } : {},
  };
}

/** A chart in a box that takes the width it is given (it holds at 420 px). */
export function chart(spec: ChartSpec): HTMLElement {
  const canvas = h('canvas', { role: 'img', 'aria-label': spec.title });
  const config: ChartConfiguration<'line' | 'bar', Array<number | null>, string> = {
    type: spec.type,
    data: { labels: spec.labels, datasets: spec.datasets },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'index', intersect: false },
      plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
      scales: {
        x: { stacked: spec.stacked ?? false, ticks: { maxRotation: 0, autoSkip: true, autoSkipPadding: 12 } },
        ...(spec.y ? { y: axis(spec.y, 'left', spec.stacked ?? false) } : {}),
        ...(spec.y2 ? { y2: axis(spec.y2, 'right', false) } : {}),
      },
    },
  };
  new Chart(canvas, config);
  return h(
    'figure',
    { class: 'chart', 'data-chart': spec.name, 'data-provider': spec.provider },
    h('figcaption', {}, spec.title),
    h('div', { class: 'chart-area' }, canvas),
    spec.note ? h('p', { class: 'sub chart-note' }, spec.note) : null,
  );
}

/** Destroys the charts whose canvas is no longer on the page (called after every render). */
export function sweepCharts(): void {
  for (const instance of Object.values(Chart.instances)) if (!instance.canvas.isConnected) instance.destroy();
}

/** A bucket start as an axis label: the time of day for minutes and hours, the date for days. */
export function bucketLabel(iso: string, bucket: 'minute' | 'hour' | 'day'): string {
  const d = new Date(iso);
  if (bucket === 'day') return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  const time = d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  return bucket === 'hour' && d.getHours() === 0 ? `${d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })} ${time}` : time;
}

/** The ranges a page offers, as `?range=` in its hash, with the bucket each is read in. */
export const ranges = {
  '1h': { ms: 3_600_000, bucket: 'minute' },
  '6h': { ms: 6 * 3_600_000, bucket: 'minute' },
  '24h': { ms: 24 * 3_600_000, bucket: 'hour' },
  '7d': { ms: 7 * 24 * 3_600_000, bucket: 'hour' },
} as const;
export type RangeName = keyof typeof ranges;

export function rangeOf(query: URLSearchParams, fallback: RangeName): RangeName {
  const asked = query.get('range');
  return asked !== null && Object.hasOwn(ranges, asked) ? (asked as RangeName) : fallback;
}

/** The API query of a range ending now (`from`, `bucket`). */
export function rangeQuery(name: RangeName): string {
  const { ms, bucket } = ranges[name];
  return new URLSearchParams({ from: new Date(Date.now() - ms).toISOString(), bucket }).toString();
}

/** A select of the ranges that sets `?range=` (other query values kept). */
export function rangeSelect(current: RangeName, offered: RangeName[], set: (range: RangeName) => void): HTMLLabelElement {
  const select = h(
    'select',
    { name: 'range', 'aria-label': 'time range', onchange: (e: Event) => set((e.target as HTMLSelectElement).value as RangeName) },
    offered.map((r) => h('option', { value: r, selected: r === current }, `last ${r}`)),
  );
  return h('label', {}, 'Range ', select);
}
