/**
 * README's Layout table is checked against the tree: every folder the repository tracks is in the
 * table, and every folder the table names exists, so the front door cannot drift from the code.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/** Top-level folders with at least one tracked file. */
function trackedFolders(): Set<string> {
  const files = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' }).split('\n');
  return new Set(files.filter((f) => f.includes('/') && !f.startsWith('.')).map((f) => f.slice(0, f.indexOf('/'))));
}

/** Folders named in the first cell of the README's Layout table (`api/`, or `cli/`, `bin/`). */
function layoutFolders(): Set<string> {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Layout'));
  const table = section.slice(0, section.indexOf('\n## ', 1));
  const folders = new Set<string>();
  for (const line of table.split('\n')) {
    const firstCell = /^\|([^|]+)\|/.exec(line)?.[1] ?? '';
    for (const [, name] of firstCell.matchAll(/`([^`/]+)\/`/g)) folders.add(name!);
  }
  return folders;
}

test("README's Layout table names every tracked top-level folder, and only those", () => {
  const tracked = [...trackedFolders()].sort();
  const listed = [...layoutFolders()].sort();
  expect(listed.length).toBeGreaterThan(5);
  expect(listed).toEqual(tracked);
});
