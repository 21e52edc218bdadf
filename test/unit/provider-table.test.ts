/** docs/PROVIDERS.md's table is the shipped registry's (scripts/provider-table.ts), so it cannot drift from providers/<name>/index.ts. */
import { readFileSync } from 'node:fs';
import { providerRows, providersDoc, shippedRegistry, withProviderTable } from '../../scripts/provider-table';

test('docs/PROVIDERS.md holds the table made from the shipped registry (run node dist/scripts/provider-table.js after a change)', () => {
  const doc = readFileSync(providersDoc, 'utf8');
  expect(withProviderTable(doc)).toBe(doc);
});

test('every registered provider has a row, with the window form of its rate limit', () => {
  const registry = shippedRegistry();
  const rows = providerRows(registry);
  expect(rows.map((row) => row[0])).toEqual(Object.keys(registry).map((name) => `\`${name}\``));
  expect(rows.find((row) => row[0] === '`stripe`')![1]).toBe('100 per 60 s (1.67/s)');
  expect(rows.find((row) => row[0] === '`google-maps`')![9]).toBe('weighted: google-maps ×4, yandex-maps ×1');
  for (const row of rows) for (const cell of row) expect(cell).not.toContain('|');
});
