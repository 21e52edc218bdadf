/** Stops the dev server the global set-up started (a given TEMPORAL_TEST_ADDRESS is left alone). */
export default async function globalTeardown(): Promise<void> {
  await globalThis.__switchyardDevServer?.stop();
}
