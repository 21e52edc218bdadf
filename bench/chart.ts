/**
 * A small SVG line chart, written by hand (no plotting dependency): series of (x, y) points as
 * polylines on linear axes with round-number ticks, axis titles, a legend and optional vertical
 * markers. Used for the burst benchmark's backlog over time (docs/images/burst-backlog.svg).
 */

export interface ChartSeries {
  name: string;
  colour: string;
  points: ReadonlyArray<readonly [number, number]>;
  dashed?: boolean;
}

export interface ChartOptions {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  series: readonly ChartSeries[];
  /** Vertical lines at an x value, labelled (e.g. "last ack"). */
  markers?: ReadonlyArray<{ x: number; label: string }>;
  width?: number;
  height?: number;
}

/** Round tick values covering [0, max]: steps of 1, 2 or 5 times a power of ten, about `count` of them. */
export function ticks(max: number, count = 6): number[] {
  if (!(max > 0)) return [0, 1];
  const rough = max / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  const values: number[] = [];
  for (let v = 0; v < max + step * 0.999; v += step) values.push(Math.round(v * 1e6) / 1e6);
  return values;
}

const escapeXml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const label = (value: number): string => (Math.abs(value) >= 10_000 ? `${value / 1000}k` : String(value));

export function lineChartSvg(options: ChartOptions): string {
  const width = options.width ?? 760;
  const height = options.height ?? 400;
  const margin = { left: 72, right: 24, top: options.subtitle ? 64 : 48, bottom: 56 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const all = options.series.flatMap((s) => s.points);
  const xTicks = ticks(Math.max(1e-9, ...all.map((p) => p[0]), ...(options.markers ?? []).map((m) => m.x)));
  const yTicks = ticks(Math.max(1e-9, ...all.map((p) => p[1])));
  const xMax = xTicks[xTicks.length - 1]!;
  const yMax = yTicks[yTicks.length - 1]!;
  const sx = (x: number): number => margin.left + (x / xMax) * plotW;
  const sy = (y: number): number => margin.top + plotH - (y / yMax) * plotH;
  const f = (n: number): string => n.toFixed(1);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>`,
  ];
  if (options.subtitle) out.push(`<text x="${width / 2}" y="40" text-anchor="middle" fill="#555555">${escapeXml(options.subtitle)}</text>`);
  for (const y of yTicks) {
    out.push(`<line x1="${margin.left}" y1="${f(sy(y))}" x2="${margin.left + plotW}" y2="${f(sy(y))}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${margin.left - 8}" y="${f(sy(y) + 4)}" text-anchor="end">${label(y)}</text>`);
  }
  for (const x of xTicks) {
    out.push(`<line x1="${f(sx(x))}" y1="${margin.top + plotH}" x2="${f(sx(x))}" y2="${margin.top + plotH + 5}" stroke="#333333"/>`);
    out.push(`<text x="${f(sx(x))}" y="${margin.top + plotH + 19}" text-anchor="middle">${label(x)}</text>`);
  }
  out.push(`<line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${margin.top + plotH}" stroke="#333333"/>`);
  out.push(`<line x1="${margin.left}" y1="${margin.top + plotH}" x2="${margin.left + plotW}" y2="${margin.top + plotH}" stroke="#333333"/>`);
  out.push(`<text x="${margin.left + plotW / 2}" y="${height - 14}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  out.push(`<text transform="translate(18 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`);
  for (const marker of options.markers ?? []) {
    out.push(`<line x1="${f(sx(marker.x))}" y1="${margin.top}" x2="${f(sx(marker.x))}" y2="${margin.top + plotH}" stroke="#888888" stroke-dasharray="2 3"/>`);
    out.push(`<text x="${f(sx(marker.x) + 4)}" y="${margin.top + 12}" fill="#555555">${escapeXml(marker.label)}</text>`);
  }
  for (const series of options.series) {
    if (series.points.length === 0) continue;
    const points = series.points.map(([x, y]) => `${f(sx(x))},${f(sy(y))}`).join(' ');
    out.push(`<polyline fill="none" stroke="${series.colour}" stroke-width="2"${series.dashed ? ' stroke-dasharray="6 4"' : ''} points="${points}"/>`);
  }
  const legendX = margin.left + plotW - 196;
  out.push(`<rect x="${legendX}" y="${margin.top + 2}" width="190" height="${options.series.length * 18 + 6}" fill="#ffffff" fill-opacity="0.85"/>`);
  options.series.forEach((series, i) => {
    const y = margin.top + 14 + i * 18;
    const x = legendX + 6;
    out.push(`<line x1="${x}" y1="${y - 4}" x2="${x + 24}" y2="${y - 4}" stroke="${series.colour}" stroke-width="2"${series.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    out.push(`<text x="${x + 30}" y="${y}">${escapeXml(series.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
