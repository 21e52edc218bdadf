import { rmSync } from 'node:fs';

/**
 * Stops the dev server the global set-up started and removes its SQLite folder (a given
 * TEMPORAL_TEST_ADDRESS is left alone), and removes the run's workflow bundle.
 */
export default async function globalTeardown(): Promise<void> {
  await globalThis.__switchyardDevServer?.stop();
  if (globalThis.__switchyardDevServerDir) rmSync(globalThis.__switchyardDevServerDir, { recursive: true, force: true });
  if (globalThis.__switchyardBundleDir) rmSync(globalThis.__switchyardBundleDir, { recursive: true, force: true });
}
