/**
 * The Grafana dashboard (ops/grafana/dashboards/switchyard.json) as the screenshot tour draws it
 * without a Grafana: its panels with their grid positions and queries, each query's series named
 * by the panel's legend format, and the HTML page that lays the panels out on Grafana's 24-column
 * grid and draws them with Chart.js (timeseries as lines, stat and bargauge from each series'
 * last value, logs as the lines given).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../lib/config/paths';

export const dashboardFile = path.join(projectRoot, 'ops', 'grafana', 'dashboards', 'switchyard.json');

export interface PanelQuery {
  expr: string;
  legendFormat?: string;
}

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  /** prometheus, loki, or none (rows). */
  datasource: string;
  queries: PanelQuery[];
  unit?: string;
  min?: number;
  max?: number;
  /** Value → text of a stat panel's value mappings (e.g. 1 → UP). */
  valueText: Record<string, string>;
}

interface RawPanel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string };
  targets?: Array<{ expr?: string; legendFormat?: string }>;
  fieldConfig?: { defaults?: { unit?: string; min?: number; max?: number; mappings?: Array<{ type: string; options?: Record<string, { text?: string }> }> } };
}

/** Every panel of the dashboard, rows included, in the file's order. */
export function dashboardPanels(file = dashboardFile): DashboardPanel[] {
  const dashboard = JSON.parse(readFileSync(file, 'utf8')) as { panels: RawPanel[] };
  return dashboard.panels.map((p) => {
    const defaults = p.fieldConfig?.defaults ?? {};
    const valueText: Record<string, string> = {};
    for (const mapping of defaults.mappings ?? []) {
      if (mapping.type !== 'value') continue;
      for (const [value, { text }] of Object.entries(mapping.options ?? {})) if (text !== undefined) valueText[value] = text;
    }
    return {
      id: p.id,
      type: p.type,
      title: p.title,
      gridPos: p.gridPos,
      datasource: p.datasource?.type ?? 'none',
      queries: (p.targets ?? []).filter((t): t is { expr: string; legendFormat?: string } => typeof t.expr === 'string').map((t) => ({ expr: t.expr, legendFormat: t.legendFormat })),
      unit: defaults.unit,
      min: defaults.min,
      max: defaults.max,
      valueText,
    };
  });
}

/** A series' name as Grafana shows it: the legend format with `{{label}}` filled in, else the label set. */
export function seriesName(labels: Record<string, string>, legendFormat?: string): string {
  if (legendFormat) return legendFormat.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => labels[name] ?? '').trim() || '(no labels)';
  const shown = Object.entries(labels).filter(([name]) => name !== '__name__');
  return shown.length > 0 ? `{${shown.map(([k, v]) => `${k}="${v}"`).join(', ')}}` : (labels.__name__ ?? 'value');
}

/** One line of one panel: [unix seconds, value] points. */
export interface DrawnSeries {
  name: string;
  points: Array<[number, number]>;
}

/** A panel with what its queries returned (or why nothing was drawn). */
export interface DrawnPanel extends DashboardPanel {
  series: DrawnSeries[];
  /** The logs panel's lines. */
  lines?: string[];
  /** Shown under the title: where the data came from when not from Prometheus, or an error. */
  note?: string;
}

/**
 * The page: a 24-column CSS grid (one grid row = 30 px, as Grafana's), one box per panel. The
 * charts are drawn by `drawDashboardScript` once Chart.js is loaded into the page.
 */
export function dashboardHtml(title: string, subtitle: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>
  body { margin: 0; background: #111217; color: #ccccdc; font: 13px/1.4 Inter, "Helvetica Neue", Arial, sans-serif; }
  header { padding: 10px 16px; border-bottom: 1px solid #2c2e33; }
  header h1 { margin: 0; font-size: 18px; font-weight: 500; color: #fff; }
  header p { margin: 2px 0 0; color: #8e8e9a; font-size: 12px; }
  #grid { display: grid; grid-template-columns: repeat(24, 1fr); grid-auto-rows: 30px; gap: 8px; padding: 8px 16px 16px; }
  .panel { background: #181b1f; border: 1px solid #2c2e33; border-radius: 2px; padding: 6px 8px; display: flex; flex-direction: column; min-width: 0; overflow: hidden; }
  .panel h2 { margin: 0 0 2px; font-size: 13px; font-weight: 500; color: #fff; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .panel .note { color: #8e8e9a; font-size: 11px; }
  .panel .body { flex: 1; position: relative; min-height: 0; }
  .row { grid-column: 1 / -1; display: flex; align-items: end; font-size: 15px; color: #fff; border: 0; background: none; padding: 0 2px; }
  .nodata { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center; color: #8e8e9a; font-size: 15px; }
  .stats { position: absolute; inset: 0; display: flex; flex-wrap: wrap; gap: 6px; align-content: flex-start; overflow: hidden; }
  .stat { flex: 1 1 110px; border-radius: 2px; padding: 6px 8px; color: #fff; }
  .stat .v { font-size: 24px; font-weight: 600; } .stat .n { font-size: 11px; opacity: .9; }
  .bars { position: absolute; inset: 0; overflow: hidden; display: flex; flex-direction: column; gap: 3px; }
  .bar { display: grid; grid-template-columns: 34% 1fr 56px; gap: 6px; align-items: center; font-size: 11px; }
  .bar .track { background: #22252b; height: 12px; } .bar .fill { height: 12px; }
  .bar .label { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; } .bar .val { text-align: right; }
  .logs { position: absolute; inset: 0; overflow: hidden; font: 11px/1.35 "DejaVu Sans Mono", monospace; white-space: pre; color: #d8d9da; }
</style></head><body><header><h1>${escapeHtml(title)}</h1><p>${escapeHtml(subtitle)}</p></header><div id="grid"></div></body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/**
 * Runs in the page (a string: this project's TypeScript has no DOM types), with `window.Chart`
 * loaded and the panels as its argument. Formats values by the panel's unit as Grafana would
 * (percentunit, s, currencyUSD, none).
 */
export const drawDashboardScript = `(panels) => {
  const palette = ['#73bf69', '#f2cc0c', '#8ab8ff', '#ff780a', '#f2495c', '#5794f2', '#b877d9', '#705da0', '#37872d', '#fade2a', '#ff9830', '#96d98d'];
  const format = (unit, v) => {
    if (v === null || Number.isNaN(v)) return '–';
    if (unit === 'percentunit') return (v * 100).toFixed(1) + '%';
    if (unit === 's') return v < 1 ? (v * 1000).toFixed(0) + ' ms' : v.toFixed(2) + ' s';
    if (unit === 'currencyUSD') return '$' + v.toFixed(2);
    return Math.abs(v) >= 100 || Number.isInteger(v) ? String(Math.round(v * 100) / 100) : v.toPrecision(3);
  };
  const colorFor = (p, v) => {
    if (p.valueText[String(v)] === 'DOWN') return '#c4162a';
    if (p.valueText[String(v)] === 'UP') return '#37872d';
    if (p.unit === 'percentunit') return v >= 0.8 ? '#37872d' : v >= 0.5 ? '#ff780a' : '#c4162a';
    return '#1f60c4';
  };
  const grid = document.getElementById('grid');
  const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };
  for (const p of panels) {
    const box = el('div', p.type === 'row' ? 'panel row' : 'panel', p.type === 'row' ? p.title : undefined);
    box.style.gridColumn = (p.gridPos.x + 1) + ' / span ' + p.gridPos.w;
    box.style.gridRow = (p.gridPos.y + 1) + ' / span ' + p.gridPos.h;
    grid.appendChild(box);
    if (p.type === 'row') continue;
    box.appendChild(el('h2', '', p.title));
    if (p.note) box.appendChild(el('div', 'note', p.note));
    const body = el('div', 'body'); box.appendChild(body);
    if (p.type === 'logs') {
      const logs = el('div', 'logs', (p.lines || []).join('\\n')); body.appendChild(logs);
      if (!p.lines || p.lines.length === 0) body.appendChild(el('div', 'nodata', 'No data'));
      continue;
    }
    const series = p.series.filter((s) => s.points.length > 0);
    if (series.length === 0) { body.appendChild(el('div', 'nodata', 'No data')); continue; }
    const last = (s) => s.points[s.points.length - 1][1];
    if (p.type === 'stat') {
      const stats = el('div', 'stats'); body.appendChild(stats);
      for (const s of series) {
        const v = last(s); const card = el('div', 'stat'); card.style.background = colorFor(p, v);
        card.appendChild(el('div', 'v', p.valueText[String(v)] || format(p.unit, v))); card.appendChild(el('div', 'n', s.name)); stats.appendChild(card);
      }
      continue;
    }
    if (p.type === 'bargauge') {
      const bars = el('div', 'bars'); body.appendChild(bars);
      const max = p.max !== undefined && p.max !== null ? p.max : (p.unit === 'percentunit' ? 1 : Math.max(...series.map(last), 1e-9));
      for (const s of series) {
        const v = last(s); const row = el('div', 'bar'); row.appendChild(el('span', 'label', s.name));
        const track = el('div', 'track'); const fill = el('div', 'fill'); fill.style.width = Math.max(0, Math.min(100, (v / max) * 100)) + '%'; fill.style.background = colorFor(p, v);
        track.appendChild(fill); row.appendChild(track); row.appendChild(el('span', 'val', format(p.unit, v))); bars.appendChild(row);
      }
      continue;
    }
    const canvas = el('canvas'); body.appendChild(canvas);
    new window.Chart(canvas, {
      type: 'line',
      data: { datasets: series.map((s, i) => ({ label: s.name, data: s.points.map(([t, v]) => ({ x: t * 1000, y: v })), borderColor: palette[i % palette.length], backgroundColor: palette[i % palette.length], borderWidth: 1.5, pointRadius: 0, tension: 0.2, spanGaps: false })) },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false, parsing: false,
        scales: {
          x: { type: 'linear', ticks: { color: '#8e8e9a', maxTicksLimit: 6, callback: (v) => new Date(v).toISOString().slice(11, 19) }, grid: { color: '#2c2e33' } },
          y: { ticks: { color: '#8e8e9a', maxTicksLimit: 5, callback: (v) => format(p.unit, v) }, grid: { color: '#2c2e33' }, min: p.min, max: p.max },
        },
        plugins: { legend: { position: 'bottom', align: 'start', labels: { color: '#ccccdc', boxWidth: 10, boxHeight: 2, font: { size: 10 } } }, tooltip: { enabled: false } },
      },
    });
  }
}`;
