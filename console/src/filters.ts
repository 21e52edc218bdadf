/** A filter form whose values live in the page's hash query; times are turned into ISO for the API. */
import { h, PAGE_SIZE, pager } from './dom';
import type { PageContext } from './page';

export interface Field {
  name: string;
  label: string;
  options?: string[];
  kind?: 'text' | 'time';
}

export function filterForm(ctx: PageContext, fields: Field[]): HTMLFormElement {
  const inputs = fields.map((f) => {
    const value = ctx.query.get(f.name) ?? '';
    const input = f.options
      ? h('select', { name: f.name }, ['', ...f.options].map((o) => h('option', { value: o, selected: o === value }, o || 'any')))
      : h('input', { name: f.name, type: f.kind === 'time' ? 'datetime-local' : 'text', value, placeholder: f.kind === 'time' ? '' : 'any' });
    return h('label', {}, `${f.label} `, input);
  });
  const form = h('form', { class: 'filters' }, inputs, h('label', {}, 'Tenant ', h('input', { value: ctx.session.tenant, disabled: true, title: 'your credential names the tenant' })), h('button', { type: 'submit' }, 'Filter'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const values: Record<string, string> = {};
    for (const f of fields) {
      const el = form.elements.namedItem(f.name) as HTMLInputElement | HTMLSelectElement | null;
      values[f.name] = el?.value.trim() ?? '';
    }
    ctx.setQuery(values);
  });
  return form;
}

/** The API's query string for the filters in the hash (`datetime-local` → ISO 8601 with offset). */
export function apiQuery(ctx: PageContext, fields: Field[], extra: Record<string, string> = {}): string {
  const out = new URLSearchParams(extra);
  for (const f of fields) {
    const value = ctx.query.get(f.name);
    if (!value) continue;
    out.set(f.name, f.kind === 'time' ? new Date(value).toISOString() : value);
  }
  return out.toString();
}

/** The pager of a filtered list: moving to another page keeps the filters in the hash query. */
export function filteredPager(ctx: PageContext, fields: Field[], total: number, offset: number, shown: number): HTMLElement {
  const filters = Object.fromEntries(fields.map((f) => [f.name, ctx.query.get(f.name) ?? '']));
  return pager(total, offset, shown, PAGE_SIZE, (next) => ctx.setQuery({ ...filters, offset: next ? String(next) : '' }));
}
