/**
 * Writes the role table of docs/SECURITY.md (between `<!-- roles:start -->` and
 * `<!-- roles:end -->`) from the route declarations and the permissions of api/access.ts:
 * `npx ts-node scripts/role-table.ts` or `node dist/scripts/role-table.js`. `--check` only
 * compares (exit 1 when the table is stale); test/unit/access.test.ts does the same.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { roleTable } from '../api/access';
import { projectRoot } from '../lib/config/paths';

export const securityDoc = path.join(projectRoot, 'docs', 'SECURITY.md');
const section = /(<!-- roles:start -->\n)[\s\S]*?(\n<!-- roles:end -->)/;

/** The document with its role table made from the declarations. */
export function withRoleTable(doc: string): string {
  if (!section.test(doc)) throw new Error('docs/SECURITY.md has no <!-- roles:start --> … <!-- roles:end --> section');
  return doc.replace(section, (_all, start: string, end: string) => `${start}${roleTable()}${end}`);
}

if (require.main === module) {
  const doc = readFileSync(securityDoc, 'utf8');
  const made = withRoleTable(doc);
  if (process.argv.includes('--check')) {
    if (made !== doc) {
      process.stderr.write('docs/SECURITY.md: the role table is stale; run node dist/scripts/role-table.js\n');
      process.exitCode = 1;
    }
  } else if (made !== doc) {
    writeFileSync(securityDoc, made);
    process.stdout.write('docs/SECURITY.md: role table written\n');
  }
}
