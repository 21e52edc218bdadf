/**
 * One text rule for every string the service API takes: each string field and
 * record key of every documented request body and query schema carries api/schemas.ts's
 * `wellFormedText` check, and every free-form JSON value its `wellFormedJson` check, so NUL and
 * unpaired surrogates are refused everywhere by the same check rather than field by field.
 */
import type { z } from 'zod';
import { serviceRoutes } from '../../api/access';
import { bookingBody, isWellFormedText, wellFormedJson, wellFormedText } from '../../api/schemas';

interface Def {
  type: string;
  checks?: unknown[];
  [key: string]: unknown;
}
const defOf = (schema: unknown): Def => (schema as { _zod: { def: Def } })._zod.def;

/** Paths of string or free-form leaves that lack the text rule. */
function unchecked(schema: unknown, path: string, out: string[]): void {
  const def = defOf(schema);
  const has = (check: unknown) => (def.checks ?? []).includes(check);
  switch (def.type) {
    case 'string':
      if (!has(wellFormedText)) out.push(path || '(root)');
      return;
    case 'unknown':
    case 'any':
      if (!has(wellFormedJson)) out.push(`${path || '(root)'} (free-form JSON)`);
      return;
    case 'object':
      for (const [key, field] of Object.entries(def.shape as Record<string, unknown>)) unchecked(field, path ? `${path}.${key}` : key, out);
      if (def.catchall && defOf(def.catchall).type !== 'never') unchecked(def.catchall, `${path}.*`, out);
      return;
    case 'record':
      unchecked(def.keyType, `${path}{key}`, out);
      unchecked(def.valueType, `${path}{value}`, out);
      return;
    case 'array':
      unchecked(def.element, `${path}[]`, out);
      return;
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
      unchecked(def.innerType, path, out);
      return;
    case 'pipe':
      // The output side sees what the input side let through.
      unchecked(def.in, path, out);
      return;
    case 'union':
      (def.options as unknown[]).forEach((option) => unchecked(option, path, out));
      return;
    default:
      // enums, literals, numbers, booleans, null: no text to check.
      return;
  }
}

test('every string of every documented request body and query carries the one text rule', () => {
  const missing: string[] = [];
  let schemas = 0;
  for (const { method, path, body, query } of serviceRoutes()) {
    for (const [kind, schema] of [
      ['body', body],
      ['query', query],
    ] as const) {
      if (!schema) continue;
      schemas += 1;
      const out: string[] = [];
      unchecked(schema, '', out);
      missing.push(...out.map((field) => `${method} ${path} ${kind}: ${field}`));
    }
  }
  expect(schemas).toBeGreaterThan(20);
  expect(missing).toEqual([]);
});

test('the text rule refuses NUL and unpaired surrogates, keeps every other character', () => {
  for (const bad of ['\u0000', 'a\u0000b', '\ud800', 'x\udc00', '\ude00\ud83d', 'a\ud83d']) expect(isWellFormedText(bad)).toBe(false);
  for (const good of ['', 'plain', '\ud83d\ude00', 'caf\u00e9', '\u00ff\ufffd', '\t\n']) expect(isWellFormedText(good)).toBe(true);
  const booking = (summary: string): z.ZodSafeParseResult<unknown> =>
    bookingBody.safeParse({ amount: 1, currency: 'usd', calendarId: 'c', summary, start: '2030-01-01T00:00:00Z', end: '2030-01-01T01:00:00Z', phone: '+14155550100', email: 'a@example.com' });
  expect(booking('ok \ud83d\ude00').success).toBe(true);
  expect(booking('a\u0000').error?.issues.map((i) => i.path.join('.'))).toEqual(['summary']);
  expect(booking('\ud800').error?.issues.map((i) => i.path.join('.'))).toEqual(['summary']);
});
