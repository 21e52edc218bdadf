/**
 * How every CLI list prints without --json: a header row, then one aligned row per item, so a
 * reader knows what each column is without the docs.
 */

/** Columns padded to their widest cell, two spaces apart; `empty` under the header when there are no rows. */
export function table(header: string[], rows: string[][], empty = '(none)'): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const lines = all.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
  return [...lines, ...(rows.length === 0 ? [empty] : [])].join('\n');
}

/** A table cell: "-" for nothing, JSON for objects. */
export function show(value: unknown): string {
  if (value === null || value === undefined) return '-';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
