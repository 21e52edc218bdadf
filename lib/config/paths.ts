/** Locations inside the project, valid both from sources (ts-jest) and from the compiled dist/. */
import { existsSync } from 'node:fs';
import path from 'node:path';

function findProjectRoot(start: string): string {
  let dir = start;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${start}`);
    dir = parent;
  }
  return dir;
}

export const projectRoot = findProjectRoot(__dirname);
export const migrationsDir = path.join(projectRoot, 'db', 'migrations');
export const toolsBinDir = path.join(projectRoot, '.tools', 'bin');
export const dataDir = path.join(projectRoot, '.data');
