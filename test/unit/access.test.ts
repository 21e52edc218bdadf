/** The role table of docs/SECURITY.md is the one in api/access.ts, row by row. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { permissions, serviceRoutes } from '../../api/access';
import { roles } from '../../lib/security/api-keys';
import { projectRoot } from '../../lib/config/paths';

test('docs/SECURITY.md role table = api/access.ts (permissions, their routes and roles)', () => {
  const readme = readFileSync(path.join(projectRoot, 'docs', 'SECURITY.md'), 'utf8');
  const table = /<!-- roles:start -->([\s\S]*?)<!-- roles:end -->/.exec(readme)![1]!;
  const rows = table
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()));
  const documented = rows.map(([permission, routes, ...marks]) => ({
    permission: permission!.replace(/`/g, ''),
    routes: routes!.split(', ').filter(Boolean).map((r) => r.replace(/`/g, '')).sort(), // a permission may have no route of its own
    roles: roles.filter((_role, i) => marks[i] === '✓'),
  }));
  const declared = Object.entries(permissions).map(([permission, allowed]) => ({
    permission,
    routes: serviceRoutes.filter(([, , p]) => p === permission).map(([method, route]) => `${method} ${route}`).sort(),
    roles: roles.filter((role) => (allowed as readonly string[]).includes(role)),
  }));
  expect(documented).toEqual(declared);
});
