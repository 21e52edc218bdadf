/**
 * What the console's browser suites share: Debian's Chromium (or CHROMIUM_PATH) driven by
 * playwright-core, the console built when a source is newer than dist/console, and the width check
 * of the 420 px screenshots.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { consoleDir } from '../../api/app';
import { projectRoot } from '../../lib/config/paths';

/** The Chromium to drive, or undefined when none is installed (the suites are then skipped with a message). */
export const chromiumPath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => !!p && existsSync(p));

/** `describe`, or `describe.skip` with a warning naming the suite when there is no Chromium. */
export function describeWithChromium(what: string): jest.Describe {
  if (!chromiumPath) console.warn(`test/browser: no Chromium (/usr/bin/chromium); ${what} are skipped. \`npm run setup\` installs Debian's chromium when it can.`);
  return chromiumPath ? describe : describe.skip;
}

/** Builds the console when dist/console is missing or older than a source file. */
export function ensureConsoleBuilt(): void {
  const index = path.join(consoleDir, 'index.html');
  const newest = (dir: string): number =>
    Math.max(...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(path.join(dir, e.name)) : statSync(path.join(dir, e.name)).mtimeMs)));
  if (existsSync(index) && statSync(index).mtimeMs >= newest(path.join(projectRoot, 'console'))) return;
  execFileSync('npx', ['vite', 'build', 'console', '--logLevel', 'warn'], { cwd: projectRoot, stdio: 'inherit' });
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** How far the page is wider than its viewport (0: nothing sticks out sideways). */
export function overflowX(page: Page): Promise<number> {
  // A string: evaluated in the page (the test's own TypeScript has no DOM types).
  return page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
}
