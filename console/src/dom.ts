/** A tiny element builder: the console's pages are plain DOM, re-rendered from API answers. */
type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Array<Child | Child[]>): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function time(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function percent(ratio: number | null | undefined, digits = 1): string {
  return ratio === null || ratio === undefined ? '—' : `${(ratio * 100).toFixed(digits)}%`;
}

export function ms(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : `${Math.round(value)} ms`;
}

/** A wait in seconds as people read it: `45 s`, `2 min 5 s`, `1 h 3 min`, `2 d 4 h`. */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  if (s < 86_400) {
    const minutes = Math.floor((s % 3600) / 60);
    return `${Math.floor(s / 3600)} h${minutes ? ` ${minutes} min` : ''}`;
  }
  const hours = Math.floor((s % 86_400) / 3600);
  return `${Math.floor(s / 86_400)} d${hours ? ` ${hours} h` : ''}`;
}

/** A status word as a coloured badge (`badge-<word>` in style.css). */
export function badge(word: string): HTMLSpanElement {
  return h('span', { class: `badge badge-${word.replace(/[^a-z_-]/gi, '')}` }, word);
}

/**
 * A table in a box that never widens the page: on a narrow screen (420 px) style.css stacks each
 * row into a block whose cells carry their column's name (`data-label`).
 */
export function table(head: string[], rows: HTMLTableRowElement[], empty = 'nothing to show'): HTMLElement {
  for (const row of rows) [...row.cells].forEach((cell, i) => head[i] && cell.setAttribute('data-label', head[i]));
  return h(
    'div',
    { class: 'scroll-x' },
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, head.map((c) => h('th', {}, c)))),
      h('tbody', {}, rows.length > 0 ? rows : [h('tr', {}, h('td', { colspan: head.length, class: 'empty' }, empty))]),
    ),
  );
}

/** Rows per page of every paged list. */
export const PAGE_SIZE = 50;

/** The page's `offset` from its hash query (0 when absent or unreadable). */
export function offsetIn(query: URLSearchParams): number {
  return Number(query.get('offset') ?? 0) || 0;
}

/**
 * "51–100 of 234" with Previous / Next for a list route that answers `total` (`limit`/`offset` in
 * the API's query, `offset` kept in the page's hash query so a page can be linked).
 */
export function pager(total: number, offset: number, shown: number, limit: number, go: (offset: number) => void): HTMLElement {
  const range = shown === 0 ? `0 of ${total}` : `${offset + 1}–${offset + shown} of ${total}`;
  const previous = h('button', { type: 'button', 'data-action': 'previous', disabled: offset === 0, onclick: () => go(Math.max(0, offset - limit)) }, '← Previous');
  const next = h('button', { type: 'button', 'data-action': 'next', disabled: offset + shown >= total, onclick: () => go(offset + limit) }, 'Next →');
  return h('div', { class: 'pager', 'data-testid': 'pager' }, previous, h('span', { class: 'range', 'data-testid': 'range' }, range), next);
}
