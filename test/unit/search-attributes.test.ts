/**
 * The search attribute declarations cannot drift: docker-compose's one-shot registers the keys
 * contracts/search-attributes.ts declares, and every workflow the worker registers has a `kind`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { customSearchAttributes, startAttributes, workflowKinds } from '../../contracts/search-attributes';

const root = join(__dirname, '..', '..');

test("docker-compose's temporal-namespace one-shot registers exactly the declared keys", () => {
  const compose = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
  const loop = /for sa in ([^;]+); do/.exec(compose)?.[1];
  expect(loop?.trim().split(/\s+/).sort()).toEqual(customSearchAttributes.map((key) => key.name).sort());
});

test('every workflow in workflows/index.ts has its own kind', () => {
  const index = readFileSync(join(root, 'workflows', 'index.ts'), 'utf8');
  const exported = [...index.matchAll(/export \{([^}]+)\}/g)].flatMap(([, names]) => names!.split(',').map((n) => n.trim()));
  expect(exported.sort()).toEqual(Object.keys(workflowKinds).sort());
  expect(new Set(Object.values(workflowKinds)).size).toBe(exported.length);
});

test('a start carries its kind and only the facts it knows', () => {
  const pairs = (type: Parameters<typeof startAttributes>[0], facts?: Parameters<typeof startAttributes>[1]) =>
    Object.fromEntries(startAttributes(type, facts).map(({ key, value }) => [key.name, value]));
  expect(pairs('healthProbe', { provider: 'stripe' })).toEqual({ kind: 'probe', provider: 'stripe' });
  expect(pairs('slaReport')).toEqual({ kind: 'sla-report' });
  expect(pairs('deliverEvent', { tenant: 'acme', provider: 'stripe', eventType: 'charge.succeeded' })).toEqual({
    kind: 'delivery',
    tenant: 'acme',
    provider: 'stripe',
    eventType: 'charge.succeeded',
  });
});
